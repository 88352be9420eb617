import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { APIError } from 'openai'
import {
  type FakeUpstream,
  sendEvents,
  sendJson,
  startFakeUpstream,
} from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import { chunk, completion, streamEvents } from './helpers/openai-fixtures.ts'
import { deleteKeys, redisSkipReason, redisUrl, testPrefix } from './helpers/redis.ts'
import { adminKey, configKey, startStoreGateway } from './helpers/store-gateway.ts'

function models(upstreamUrl: string): string {
  return `
providers:
  up: { kind: openai, base_url: "${upstreamUrl}/v1", api_key: sk-upstream-secret-123456 }
models:
  - { id: cached, type: text-generation, route: { provider: up, model: gpt-4o-mini, cache: { mode: simple } } }
  - { id: brief, type: text-generation, route: { provider: up, model: gpt-4o-mini, cache: { mode: simple, max_age: 1 } } }
  - { id: fresh, type: text-generation, route: { provider: up, model: gpt-4o-mini } }
`
}

/** Raw chat request through fetch, to read the cache header. */
async function chat(
  gateway: TestGateway,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  key = testKey,
): Promise<{ status: number; cache: string | null; text: string }> {
  const response = await fetch(`${gateway.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  return {
    status: response.status,
    cache: response.headers.get('x-switchyard-cache'),
    text: await response.text(),
  }
}

const carolKey = 'sk-test-carol-0123456789abcdef'

const ask = (content: string, model = 'cached') => ({
  model,
  messages: [{ role: 'user' as const, content }],
})

describe('response caching (routing config `cache`)', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway
  let answers = 0

  before(async () => {
    upstream = await startFakeUpstream((_request, response) => {
      answers++
      sendJson(response, 200, completion('gpt-4o-mini', `answer ${answers}`))
    })
    gateway = await startTestGateway(
      models(upstream.url),
      {},
      {
        keys: [`{ name: carol, key: ${carolKey}, models: ["*"] }`],
      },
    )
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  test('an identical unstreamed request is answered from the cache, without the upstream', async () => {
    const before = upstream.requests.length
    const first = await chat(gateway, ask('What is 2+2?'))
    const second = await chat(gateway, ask('What is 2+2?'))
    assert.equal(first.status, 200)
    assert.equal(first.cache, 'miss')
    assert.equal(second.status, 200)
    assert.equal(second.cache, 'hit')
    assert.equal(upstream.requests.length, before + 1)
    const [a, b] = [JSON.parse(first.text), JSON.parse(second.text)]
    assert.equal(b.choices[0].message.content, a.choices[0].message.content)
    assert.equal(b.model, 'cached')
    assert.deepEqual(b.usage, a.usage)
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    assert.match(metrics, /switchyard_cache_hits_total\{model="cached",provider="up"\} [1-9]/)
  })

  test('answers are never shared across keys, bodies or routes without cache', async () => {
    await chat(gateway, ask('Shared?'))
    const before = upstream.requests.length
    const otherKey = await chat(gateway, ask('Shared?'), {}, carolKey)
    assert.equal(otherKey.cache, 'miss')
    const otherBody = await chat(gateway, { ...ask('Shared?'), temperature: 0.5 })
    assert.equal(otherBody.cache, 'miss')
    const uncached = await chat(gateway, ask('Shared?', 'fresh'))
    const uncachedAgain = await chat(gateway, ask('Shared?', 'fresh'))
    assert.equal(uncached.cache, null)
    assert.equal(uncachedAgain.cache, null)
    assert.equal(upstream.requests.length, before + 4)
  })

  test('force refresh skips the lookup and stores the new answer', async () => {
    const first = await chat(gateway, ask('Refresh me'))
    const refreshed = await chat(gateway, ask('Refresh me'), {
      'x-switchyard-cache-force-refresh': 'true',
    })
    const after = await chat(gateway, ask('Refresh me'))
    assert.equal(refreshed.cache, 'refresh')
    assert.notEqual(
      JSON.parse(refreshed.text).choices[0].message.content,
      JSON.parse(first.text).choices[0].message.content,
    )
    assert.equal(after.cache, 'hit')
    assert.equal(after.text, JSON.stringify(JSON.parse(refreshed.text)))
  })

  test('an entry expires after max_age seconds', async () => {
    await chat(gateway, ask('Short-lived', 'brief'))
    assert.equal((await chat(gateway, ask('Short-lived', 'brief'))).cache, 'hit')
    await sleep(1100)
    assert.equal((await chat(gateway, ask('Short-lived', 'brief'))).cache, 'miss')
  })

  test('a failed answer is not cached', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 400, { error: { message: 'bad', type: 'invalid_request_error' } }),
    )
    const failed = await chat(gateway, ask('Fails first'))
    assert.equal(failed.status, 400)
    upstream.handle((_request, response) =>
      sendJson(response, 200, completion('gpt-4o-mini', 'worked')),
    )
    const before = upstream.requests.length
    const retried = await chat(gateway, ask('Fails first'))
    assert.equal(retried.cache, 'miss')
    assert.equal(JSON.parse(retried.text).choices[0].message.content, 'worked')
    assert.equal(upstream.requests.length, before + 1)
  })

  test('a streamed answer is cached and replayed to streamed and unstreamed requests', async () => {
    upstream.handle((_request, response) =>
      sendEvents(response, streamEvents('gpt-4o-mini', ['Hello', ' from', ' cache'], true)),
    )
    const before = upstream.requests.length
    const collect = async () => {
      const stream = await gateway.client.chat.completions.create({
        ...ask('Stream it'),
        stream: true,
        stream_options: { include_usage: true },
      })
      let text = ''
      let usage: unknown
      for await (const part of stream) {
        text += part.choices[0]?.delta.content ?? ''
        if (part.usage) usage = part.usage
      }
      return { text, usage }
    }
    const first = await collect()
    const second = await collect()
    assert.equal(first.text, 'Hello from cache')
    assert.deepEqual(second, first)
    const unstreamed = await gateway.client.chat.completions.create(ask('Stream it'))
    assert.equal(unstreamed.choices[0]?.message.content, 'Hello from cache')
    assert.equal(unstreamed.choices[0]?.finish_reason, 'stop')
    assert.deepEqual(unstreamed.usage, first.usage)
    assert.equal(upstream.requests.length, before + 1)
  })

  test('tool calls survive a streamed entry: ids, names and whole arguments', async () => {
    upstream.handle((_request, response) =>
      sendEvents(response, [
        { data: chunk('gpt-4o-mini', { role: 'assistant', content: null }) },
        {
          data: chunk('gpt-4o-mini', {
            tool_calls: [
              {
                index: 0,
                id: 'call_1',
                type: 'function',
                function: { name: 'weather', arguments: '' },
              },
            ],
          }),
        },
        {
          data: chunk('gpt-4o-mini', {
            tool_calls: [{ index: 0, function: { arguments: '{"city":' } }],
          }),
        },
        {
          data: chunk('gpt-4o-mini', {
            tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }],
          }),
        },
        { data: chunk('gpt-4o-mini', {}, 'tool_calls') },
        { data: '[DONE]' },
      ]),
    )
    const request = {
      ...ask('Weather in Paris?'),
      tools: [
        {
          type: 'function' as const,
          function: { name: 'weather', parameters: { type: 'object' } },
        },
      ],
    }
    const stream = await gateway.client.chat.completions.create({ ...request, stream: true })
    for await (const _ of stream) {
      // drained: the gateway stores the entry once the stream ended cleanly
    }
    const cached = await gateway.client.chat.completions.create(request)
    assert.equal(cached.choices[0]?.finish_reason, 'tool_calls')
    assert.deepEqual(cached.choices[0]?.message.tool_calls, [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'weather', arguments: '{"city":"Paris"}' },
      },
    ])
  })

  test('a per-request config can turn caching on; only mode simple, only at the top', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, completion('gpt-4o-mini', 'inline')),
    )
    const config = JSON.stringify({
      provider: 'up',
      model: 'gpt-4o-mini',
      cache: { mode: 'simple', max_age: 60 },
    })
    const first = await chat(gateway, ask('Inline', 'fresh'), { 'x-portkey-config': config })
    const second = await chat(gateway, ask('Inline', 'fresh'), { 'x-portkey-config': config })
    assert.deepEqual([first.cache, second.cache], ['miss', 'hit'])

    const semantic = JSON.stringify({ provider: 'up', cache: { mode: 'semantic' } })
    const refused = await chat(gateway, ask('Inline', 'fresh'), { 'x-portkey-config': semantic })
    assert.equal(refused.status, 400)
    assert.match(JSON.parse(refused.text).error.message, /semantic caching is not/)
    const nested = JSON.stringify({
      strategy: { mode: 'fallback' },
      targets: [{ provider: 'up', cache: { mode: 'simple' } }],
    })
    const misplaced = await chat(gateway, ask('Inline', 'fresh'), { 'x-portkey-config': nested })
    assert.equal(misplaced.status, 400)
    assert.match(
      JSON.parse(misplaced.text).error.message,
      /targets\[0\]\.cache: cache applies to the whole config/,
    )
  })

  test('the SDK sees an upstream error on a miss as before', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 429, { error: { message: 'slow down', type: 'rate_limit_error' } }),
    )
    await assert.rejects(gateway.client.chat.completions.create(ask('Limited')), (error) => {
      assert.ok(error instanceof APIError)
      assert.equal(error.status, 429)
      return true
    })
  })
})

describe('response caching limits', () => {
  test('an answer larger than cache.max_entry_bytes is served but not kept', async () => {
    const upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 200, completion('gpt-4o-mini', 'a long answer '.repeat(20))),
    )
    const gateway = await startTestGateway(`${models(upstream.url)}
cache: { max_entry_bytes: 200 }
`)
    try {
      const first = await chat(gateway, ask('Too big to keep'))
      const second = await chat(gateway, ask('Too big to keep'))
      assert.equal(first.status, 200)
      assert.deepEqual([first.cache, second.cache], ['miss', 'miss'])
      assert.equal(upstream.requests.length, 2)
    } finally {
      await gateway.stop(0)
      await upstream.close()
    }
  })
})

describe('response caching: identical requests in flight', { timeout: 20_000 }, () => {
  let upstream: FakeUpstream
  let gateway: TestGateway
  let failNext = false

  before(async () => {
    let calls = 0
    // Every answer takes 200 ms, so requests sent together overlap.
    upstream = await startFakeUpstream((request, response) => {
      const call = ++calls
      setTimeout(() => {
        if (failNext) {
          failNext = false
          return sendJson(response, 500, { error: { message: 'boom', type: 'server_error' } })
        }
        if ((request.body as { stream?: boolean }).stream === true) {
          return sendEvents(response, streamEvents('gpt-4o-mini', ['streamed ', `${call}`], true))
        }
        sendJson(response, 200, completion('gpt-4o-mini', `answer ${call}`))
      }, 200)
    })
    gateway = await startTestGateway(models(upstream.url))
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  const content = (text: string) =>
    (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]!.message
      .content

  test('unstreamed requests wait for the same request in flight: one upstream call', async () => {
    const before = upstream.requests.length
    const burst = await Promise.all(
      [1, 2, 3, 4, 5].map(() => chat(gateway, ask('A popular question'))),
    )
    assert.equal(upstream.requests.length, before + 1)
    assert.deepEqual(
      burst.map((answer) => answer.status),
      [200, 200, 200, 200, 200],
    )
    assert.equal(new Set(burst.map((answer) => content(answer.text))).size, 1)
    assert.deepEqual(burst.map((answer) => answer.cache).sort(), [
      'hit',
      'hit',
      'hit',
      'hit',
      'miss',
    ])
  })

  test('a streamed request never waits; a force refresh neither', async () => {
    const before = upstream.requests.length
    const leader = chat(gateway, ask('Another question'))
    await sleep(50)
    const [streamed, refreshed] = await Promise.all([
      chat(gateway, { ...ask('Another question'), stream: true }),
      chat(gateway, ask('Another question'), { 'x-switchyard-cache-force-refresh': 'true' }),
    ])
    assert.equal((await leader).cache, 'miss')
    assert.equal(streamed.cache, 'miss')
    assert.match(streamed.text, /data: \[DONE\]/)
    assert.equal(refreshed.cache, 'refresh')
    assert.equal(upstream.requests.length, before + 3)
  })

  test('a leader that fails releases the waiting requests to call upstream themselves', async () => {
    const before = upstream.requests.length
    failNext = true
    const answers = await Promise.all(
      [1, 2, 3].map(() => chat(gateway, ask('An unlucky question'))),
    )
    const statuses = answers.map((answer) => answer.status).sort()
    assert.equal(statuses.filter((status) => status === 200).length, 2, JSON.stringify(statuses))
    assert.equal(upstream.requests.length, before + 3)
  })
})

describe('response caching in the usage log', () => {
  test('a hit is logged with cache_hit, no tokens and no cost', async () => {
    const upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 200, completion('gpt-4o-mini', 'logged')),
    )
    const gateway = await startStoreGateway(
      'sqlite::memory:',
      `providers: { up: { kind: openai, base_url: "${upstream.url}/v1" } }
models:
  - { id: cached, type: text-generation, costs: { prompt_tokens: 1, completion_tokens: 1 }, route: { provider: up, cache: { mode: simple } } }
`,
      { adminKey, usageLog: '{ flush_interval_ms: 10 }' },
    )
    try {
      const client = gateway.clientFor(configKey)
      await client.chat.completions.create(ask('Log me'))
      await client.chat.completions.create(ask('Log me'))
      let rows: Record<string, unknown>[] = []
      for (let tries = 0; tries < 50 && rows.length < 2; tries++) {
        await sleep(20)
        rows = (await gateway.admin('GET', '/admin/requests')).body.data as Record<
          string,
          unknown
        >[]
      }
      const hit = rows.find((row) => row.cache_hit === true)
      const miss = rows.find((row) => row.cache_hit === false)
      assert.ok(hit && miss, JSON.stringify(rows))
      assert.equal(hit.cost, 0)
      assert.equal(hit.prompt_tokens, 0)
      assert.ok((miss.cost as number) > 0)
      assert.equal(upstream.requests.length, 1)
    } finally {
      await gateway.stop(0)
      await upstream.close()
    }
  })
})

describe('response caching in Redis', async () => {
  const skip = await redisSkipReason()
  test('replicas share entries through Redis', { skip }, async () => {
    const prefix = testPrefix()
    const upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 200, completion('gpt-4o-mini', 'shared')),
    )
    const yaml = `${models(upstream.url)}
redis: { url: "${redisUrl}" }
cache: { redis_prefix: "${prefix}" }
`
    const one = await startTestGateway(yaml)
    const two = await startTestGateway(yaml)
    try {
      assert.equal((await chat(one, ask('Across replicas'))).cache, 'miss')
      // The entry is written after the answer went out, without waiting for Redis.
      await sleep(100)
      const second = await chat(two, ask('Across replicas'))
      assert.equal(second.cache, 'hit')
      assert.equal(JSON.parse(second.text).choices[0].message.content, 'shared')
      assert.equal(upstream.requests.length, 1)
    } finally {
      await one.stop(0)
      await two.stop(0)
      await upstream.close()
      await deleteKeys(prefix)
    }
  })
})
