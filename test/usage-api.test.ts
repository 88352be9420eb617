import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base'
import { openStore } from '../src/store/open-store.ts'
import {
  type FakeUpstream,
  sendEvents,
  sendJson,
  startFakeUpstream,
} from './helpers/fake-upstream.ts'
import { completion, streamEvents } from './helpers/openai-fixtures.ts'
import { storeEngines } from './helpers/store-engines.ts'
import {
  adminKey,
  configKey,
  type StoreGateway,
  startStoreGateway,
} from './helpers/store-gateway.ts'

function models(upstreamUrl: string): string {
  return `
providers:
  demo: { kind: mock }
  vllm: { kind: openai, base_url: "${upstreamUrl}/v1" }
models:
  - { id: mock-echo, type: text-generation, costs: { prompt_tokens: 1000, completion_tokens: 2000 }, route: { provider: demo } }
  - { id: quiet, type: text-generation, aliases: [q], costs: { prompt_tokens: 1000, completion_tokens: 1000 }, route: { provider: vllm, model: quiet-upstream } }
`
}

interface LoggedRequestView {
  request_id: string
  key_id: string | null
  key_name: string | null
  model: string | null
  model_id: string | null
  provider: string | null
  upstream_model: string | null
  stream: boolean
  status: number
  error_code: string | null
  prompt_tokens: number
  completion_tokens: number
  usage_estimated: boolean
  cost: number
  ttft_ms: number | null
  latency_ms: number
  attempts: number
}

const answerWords = ['Hello', ' world,', ' how', ' are', ' you?']
const answerText = answerWords.join('')

for (const engine of storeEngines()) {
  describe(`usage log from real requests on ${engine.name}`, { skip: engine.skip }, () => {
    let upstream: FakeUpstream
    let gateway: StoreGateway
    let storedKey: { id: string; key: string }

    before(async () => {
      // An upstream that never reports usage, streamed or not.
      upstream = await startFakeUpstream((request, response) => {
        const body = request.body as { stream?: boolean }
        if (body.stream)
          return sendEvents(response, streamEvents('quiet-upstream', answerWords, false))
        const { usage: _none, ...withoutUsage } = completion('quiet-upstream', answerText)
        sendJson(response, 200, withoutUsage)
      })
      gateway = await startStoreGateway(await engine.create(), models(upstream.url), {
        adminKey,
        usageLog: '{ flush_interval_ms: 60000 }',
      })
      const created = await gateway.admin('POST', '/admin/keys', { name: 'bob', models: ['*'] })
      storedKey = { id: created.body.id as string, key: created.body.key as string }
    })
    after(async () => {
      await gateway?.stop(0)
      await upstream?.close()
      await engine.cleanup()
    })

    test('every chat request is logged: usage reported or estimated, streamed or not', async () => {
      const alice = gateway.clientFor(configKey)
      const bob = gateway.clientFor(storedKey.key)
      const messages = [{ role: 'user' as const, content: 'Say hello to the world' }]
      await alice.chat.completions.create({ model: 'mock-echo', messages })
      const stream = await bob.chat.completions.create({
        model: 'mock-echo',
        messages,
        stream: true,
      })
      let streamed = ''
      for await (const chunk of stream) {
        assert.equal(chunk.usage, undefined, 'usage stays hidden from a client that did not ask')
        streamed += chunk.choices[0]?.delta.content ?? ''
      }
      assert.equal(streamed, 'Say hello to the world')
      await bob.chat.completions.create({ model: 'q', messages })
      const quietStream = await alice.chat.completions.create({
        model: 'quiet',
        messages,
        stream: true,
      })
      for await (const _chunk of quietStream) {
      }
      await assert.rejects(alice.chat.completions.create({ model: 'missing', messages }))
      await gateway.gateway.store!.usageLog.flush()

      const listed = await gateway.admin('GET', '/admin/requests')
      assert.equal(listed.status, 200, listed.text)
      const rows = listed.body.data as LoggedRequestView[]
      assert.equal(rows.length, 5)
      const [missing, quietStreamed, quietPlain, mockStreamed, mockPlain] = rows
      // Newest first.
      assert.equal(missing!.status, 404)
      assert.equal(missing!.error_code, 'model_not_found')
      assert.equal(missing!.key_name, 'alice')

      assert.equal(mockPlain!.key_id, 'config:alice')
      assert.equal(mockPlain!.provider, 'demo')
      assert.equal(mockPlain!.status, 200)
      assert.equal(mockPlain!.usage_estimated, false)
      // The mock reports prompt tokens as words + 1 per message, completion tokens as words.
      assert.equal(mockPlain!.prompt_tokens, 6)
      assert.equal(mockPlain!.completion_tokens, 5)
      assert.equal(mockPlain!.cost, (6 * 1000 + 5 * 2000) / 1e6)
      assert.equal(mockPlain!.ttft_ms, null)

      assert.equal(mockStreamed!.key_id, storedKey.id)
      assert.equal(mockStreamed!.key_name, 'bob')
      assert.equal(mockStreamed!.stream, true)
      assert.equal(mockStreamed!.usage_estimated, false, 'the usage chunk was recorded, not shown')
      assert.equal(mockStreamed!.completion_tokens, 5)
      assert.ok(mockStreamed!.ttft_ms !== null && mockStreamed!.ttft_ms <= mockStreamed!.latency_ms)

      const expectedCompletion = countTokens(answerText)
      for (const row of [quietPlain!, quietStreamed!]) {
        assert.equal(row.usage_estimated, true)
        assert.equal(row.model, row === quietPlain ? 'q' : 'quiet')
        assert.equal(row.model_id, 'quiet')
        assert.equal(row.upstream_model, 'quiet-upstream')
        assert.equal(row.completion_tokens, expectedCompletion)
        // "Say hello to the world" plus the chat framing of one user message.
        assert.equal(
          row.prompt_tokens,
          countTokens('Say hello to the world') + countTokens('user') + 6,
        )
        assert.equal(row.cost, (row.prompt_tokens + row.completion_tokens) / 1000)
      }

      const filtered = await gateway.admin('GET', `/admin/requests?key=${storedKey.id}`)
      assert.deepEqual(
        (filtered.body.data as LoggedRequestView[]).map((row) => row.model),
        ['q', 'mock-echo'],
      )
      const failures = await gateway.admin('GET', '/admin/requests?status=404')
      assert.equal((failures.body.data as unknown[]).length, 1)
      const byModel = await gateway.admin('GET', '/admin/requests?model=quiet&limit=1')
      assert.equal((byModel.body.data as unknown[]).length, 1)
      assert.equal(byModel.body.has_more, true)
      const next = await gateway.admin(
        'GET',
        `/admin/requests?model=quiet&limit=1&cursor=${byModel.body.next_cursor}`,
      )
      assert.equal((next.body.data as LoggedRequestView[])[0]!.model, 'q')
      assert.equal(next.body.has_more, false)
    })

    test('usage totals group by key, model, provider and day, within a time range', async () => {
      const total = await gateway.admin('GET', '/admin/usage')
      assert.equal(total.status, 200, total.text)
      const totals = total.body.total as Record<string, number>
      assert.equal(totals.requests, 5)
      assert.equal(totals.errors, 1)
      assert.equal(totals.estimated_requests, 2)

      const byKey = await gateway.admin('GET', '/admin/usage?group_by=key')
      const keys = byKey.body.data as { key_id: string; key_name: string; requests: number }[]
      assert.deepEqual(keys.map((row) => [row.key_id, row.key_name, row.requests]).sort(), [
        ['config:alice', 'alice', 3],
        [storedKey.id, 'bob', 2],
      ])
      assert.deepEqual(byKey.body.total, total.body.total)

      const byModel = await gateway.admin('GET', '/admin/usage?group_by=model')
      const modelRows = byModel.body.data as { model: string; requests: number; cost: number }[]
      assert.deepEqual(modelRows.map((row) => [row.model, row.requests]).sort(), [
        ['missing', 1],
        ['mock-echo', 2],
        ['quiet', 2],
      ])
      const byProvider = await gateway.admin('GET', '/admin/usage?group_by=provider')
      const providers = byProvider.body.data as { provider: string | null; requests: number }[]
      assert.deepEqual(
        providers.map((row) => [row.provider, row.requests]).sort(),
        [
          ['demo', 2],
          ['vllm', 2],
          [null, 1],
        ].sort(),
      )

      const today = new Date().toISOString().slice(0, 10)
      const byDay = await gateway.admin('GET', `/admin/usage?group_by=day&from=${today}`)
      assert.deepEqual(byDay.body.data, [{ day: today, ...(total.body.total as object) }])
      const future = await gateway.admin('GET', '/admin/usage?from=2999-01-01')
      assert.equal((future.body.total as Record<string, number>).requests, 0)
      const bad = await gateway.admin('GET', '/admin/usage?group_by=colour')
      assert.equal(bad.status, 400)
      assert.equal((bad.body.error as { param: string }).param, 'group_by')
      const badDate = await gateway.admin('GET', '/admin/usage?from=yesterday')
      assert.equal((badDate.body.error as { param: string }).param, 'from')
    })
  })

  describe(`usage log at shutdown on ${engine.name}`, { skip: engine.skip }, () => {
    after(() => engine.cleanup())

    test('stopping the gateway writes every accepted record, though no batch was due', async () => {
      const url = await engine.create()
      const gateway = await startStoreGateway(url, models('http://127.0.0.1:9'), {
        usageLog: '{ batch_size: 1000, flush_interval_ms: 600000 }',
      })
      const client = gateway.clientFor(configKey)
      const requests = Array.from({ length: 12 }, (_, index) =>
        client.chat.completions.create({
          model: 'mock-echo',
          messages: [{ role: 'user', content: `request ${index}` }],
          stream: index % 2 === 0,
        }),
      )
      await Promise.all(requests)
      assert.equal(gateway.gateway.store!.usageLog.stats().written, 0, 'still queued')
      await gateway.stop()
      const reopened = await openStore(url)
      try {
        const [totals] = await reopened.usage.summarize({})
        assert.equal(totals!.requests, 12)
      } finally {
        await reopened.close()
      }
    })
  })
}

describe('usage log turned off', () => {
  const engine = storeEngines().find((candidate) => candidate.name === 'sqlite')!
  after(() => engine.cleanup())

  test('chat requests leave no row; the admin API still answers from the store', async () => {
    const url = await engine.create()
    const gateway = await startStoreGateway(url, models('http://127.0.0.1:9'), {
      adminKey,
      usageLog: '{ enabled: false, batch_size: 1 }',
    })
    try {
      const client = gateway.clientFor(configKey)
      const messages = [{ role: 'user' as const, content: 'not logged' }]
      await client.chat.completions.create({ model: 'mock-echo', messages })
      const stream = await client.chat.completions.create({
        model: 'mock-echo',
        messages,
        stream: true,
      })
      for await (const _chunk of stream) {
      }
      await gateway.gateway.store!.usageLog.flush()
      assert.deepEqual(gateway.gateway.store!.usageLog.stats(), {
        queued: 0,
        written: 0,
        dropped: 0,
      })
      const listed = await gateway.admin('GET', '/admin/requests')
      assert.equal(listed.status, 200, listed.text)
      assert.deepEqual(listed.body.data, [])
      const totals = await gateway.admin('GET', '/admin/usage')
      assert.equal((totals.body.total as { requests: number }).requests, 0)
    } finally {
      await gateway.stop(0)
    }
  })
})
