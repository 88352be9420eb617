/** Per-key limits over real HTTP with the openai SDK, counters in memory (one gateway). */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import { apiError } from './helpers/api-error.ts'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import { completion } from './helpers/openai-fixtures.ts'

const keys = {
  carol: 'sk-test-carol-rpm-0123456789',
  dave: 'sk-test-dave-tpm-0123456789',
  erin: 'sk-test-erin-budget-0123456789',
  frank: 'sk-test-frank-both-0123456789',
}

describe('per-key limits over HTTP (memory)', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway

  before(async () => {
    upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 200, completion('upstream-model', 'Hi')),
    )
    gateway = await startTestGateway(
      `
providers:
  upstream: { kind: openai, base_url: "${upstream.url}/v1", api_key: sk-upstream-secret-123456 }
  demo: { kind: mock }
models:
  - { id: mock-echo, type: text-generation, costs: { prompt_tokens: 1000, completion_tokens: 1000 }, route: { provider: demo } }
  - { id: counted, type: text-generation, route: { provider: upstream } }
`,
      {},
      {
        keys: [
          `{ name: carol, key: ${keys.carol}, limits: { rpm: 3 } }`,
          `{ name: dave, key: ${keys.dave}, limits: { tpm: 1000 } }`,
          `{ name: erin, key: ${keys.erin}, budget: { max_spend: 0.01, period: day } }`,
          `{ name: frank, key: ${keys.frank}, limits: { rpm: 100, tpm: 100000 } }`,
        ],
      },
    )
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  const ask = (key: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    gateway
      .clientFor(key)
      .chat.completions.create({
        model: 'mock-echo',
        messages: [{ role: 'user', content: 'one two three' }],
        ...extra,
      })
      .withResponse()

  test('rpm: the fourth request in a minute is a 429 with retry-after and rate-limit headers', async () => {
    for (const remaining of ['2', '1', '0']) {
      const { response } = await ask(keys.carol)
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), '3')
      assert.equal(response.headers.get('x-ratelimit-remaining-requests'), remaining)
      assert.match(
        response.headers.get('x-ratelimit-reset-requests') ?? '',
        /^\d+(\.\d+)?m?s$|^\d+m\d+(\.\d+)?s$/,
      )
      assert.equal(response.headers.get('x-ratelimit-limit-tokens'), null)
    }
    const error = await apiError(ask(keys.carol))
    assert.ok(error instanceof OpenAI.RateLimitError)
    assert.equal(error.status, 429)
    assert.equal(error.code, 'rate_limit_exceeded')
    assert.equal(error.type, 'rate_limit_error')
    const retryAfter = Number(error.headers?.get('retry-after'))
    assert.ok(retryAfter >= 19 && retryAfter <= 20, `retry-after ${retryAfter}`)
    assert.equal(error.headers?.get('x-ratelimit-limit-requests'), '3')
    assert.equal(error.headers?.get('x-ratelimit-remaining-requests'), '0')
    assert.match(error.headers?.get('x-ratelimit-reset-requests') ?? '', /^(59|1m0)(\.\d+)?s$/)
    assert.match(
      error.message,
      /Rate limit reached for requests per min \(RPM\) on API key 'carol'/,
    )
    // Another key is not affected.
    assert.equal((await ask(testKey)).response.status, 200)
  })

  test('tpm: the real usage settled after a call refuses the next request', async () => {
    upstream.handle((_request, response) =>
      sendJson(
        response,
        200,
        completion('upstream-model', 'Hi', {
          usage: { prompt_tokens: 100, completion_tokens: 890, total_tokens: 990 },
        }),
      ),
    )
    const small = { model: 'counted', max_tokens: 10 }
    // 'one two three' is 13 characters (4 tokens) + 4 for the message + max_tokens 10 = 18.
    const first = await ask(keys.dave, small)
    assert.equal(first.response.headers.get('x-ratelimit-limit-tokens'), '1000')
    assert.equal(first.response.headers.get('x-ratelimit-remaining-tokens'), '982')
    assert.equal(first.data.usage?.total_tokens, 990)
    // On the estimate alone 18 + 18 tokens would fit; the 990 really used do not leave room.
    const error = await apiError(ask(keys.dave, small))
    assert.equal(error.status, 429)
    assert.equal(error.code, 'rate_limit_exceeded')
    // 1000 - 990 = 10, plus what the bucket refilled since (a token per 60 ms): fewer than 18.
    const remaining = Number(error.headers?.get('x-ratelimit-remaining-tokens'))
    assert.ok(remaining >= 10 && remaining < 18, `remaining tokens: ${remaining}`)
    assert.ok(Number(error.headers?.get('retry-after')) >= 1)
    assert.match(
      error.message,
      /tokens per min \(TPM\) on API key 'dave': Limit 1000, Requested 18/,
    )
    assert.equal(upstream.requests.length, 1)
  })

  test('budget: once the day is spent the key gets 429 insufficient_quota', async () => {
    let spent = 0
    let lastCost = 0
    let admitted = 0
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const { data } = await ask(keys.erin)
        const usage = data.usage!
        lastCost = ((usage.prompt_tokens + usage.completion_tokens) * 1000) / 1e6
        spent += lastCost
        admitted++
      } catch (error) {
        assert.ok(error instanceof OpenAI.APIError)
        assert.equal(error.status, 429)
        assert.equal(error.code, 'insufficient_quota')
        assert.equal(error.type, 'insufficient_quota')
        assert.equal(error.headers?.get('x-should-retry'), 'false')
        assert.ok(Number(error.headers?.get('retry-after')) <= 86_400)
        assert.match(
          error.message,
          /daily budget \(spent [\d.]+ of 0.01\); it renews at \d{4}-\d\d-\d\dT00:00:00.000Z/,
        )
        break
      }
    }
    assert.ok(admitted >= 1, 'the first request is admitted')
    assert.ok(spent >= 0.01, `refused only once the budget is spent (spent ${spent})`)
    assert.ok(spent - lastCost < 0.01, 'the last admitted request started below the budget')
  })

  test('headers are on streamed responses too; keys without limits get none', async () => {
    const stream = await gateway
      .clientFor(keys.frank)
      .chat.completions.create({
        model: 'mock-echo',
        messages: [{ role: 'user', content: 'hello there' }],
        stream: true,
      })
      .withResponse()
    assert.equal(stream.response.headers.get('x-ratelimit-remaining-requests'), '99')
    assert.ok(Number(stream.response.headers.get('x-ratelimit-remaining-tokens')) < 100000)
    for await (const _chunk of stream.data) {
    }
    const unlimited = await ask(testKey)
    assert.equal(unlimited.response.headers.get('x-ratelimit-limit-requests'), null)
    assert.equal(unlimited.response.headers.get('x-ratelimit-limit-tokens'), null)
  })

  test('an upstream error after admission still carries the rate-limit headers', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 500, { error: { message: 'boom', type: 'server_error' } }),
    )
    const error = await apiError(ask(keys.frank, { model: 'counted' }))
    assert.equal(error.status, 502)
    assert.equal(error.headers?.get('x-ratelimit-limit-requests'), '100')
  })
})
