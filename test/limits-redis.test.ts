/**
 * Limits shared through real Redis by three gateway replicas in one process, and by the workers of
 * one `serve --workers 2`: together they admit no more than a key's limit. Needs Redis at
 * 127.0.0.1:6379 (fails under CI=true without it).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import { apiError } from './helpers/api-error.ts'
import { serve } from './helpers/cli.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import { deleteKeys, redisSkipReason, redisUrl, testPrefix } from './helpers/redis.ts'

const skip = await redisSkipReason()

const keys = {
  gina: 'sk-test-gina-rpm-0123456789',
  hank: 'sk-test-hank-budget-0123456789',
  ivan: 'sk-test-ivan-tpm-0123456789',
}
const rpm = 10

function replicaConfig(redis: string, limits: string): string {
  return `
providers:
  demo: { kind: mock, latency_ms: 5 }
models:
  - { id: mock-echo, type: text-generation, costs: { prompt_tokens: 1000, completion_tokens: 1000 }, route: { provider: demo } }
redis: { url: "${redis}" }
limits: ${limits}
`
}

const limitedKeys = [
  `{ name: gina, key: ${keys.gina}, limits: { rpm: ${rpm} } }`,
  `{ name: hank, key: ${keys.hank}, budget: { max_spend: 0.01, period: day } }`,
  `{ name: ivan, key: ${keys.ivan}, limits: { tpm: 60 } }`,
]

const ask = (gateway: TestGateway, key: string) =>
  gateway.clientFor(key).chat.completions.create({
    model: 'mock-echo',
    messages: [{ role: 'user', content: 'one two three' }],
    max_tokens: 10,
  })

describe('limits shared through Redis by three replicas', { skip }, () => {
  const prefix = testPrefix()
  const replicas: TestGateway[] = []

  before(async () => {
    for (let index = 0; index < 3; index++) {
      replicas.push(
        await startTestGateway(
          replicaConfig(redisUrl, `{ redis_prefix: "${prefix}", redis_timeout_ms: 2000 }`),
          {},
          { keys: limitedKeys },
        ),
      )
    }
  })
  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop(0)))
    await deleteKeys(prefix)
  })

  test(`${rpm * 3} concurrent requests across the replicas: exactly the limit is admitted`, async () => {
    const started = performance.now()
    const outcomes = await Promise.allSettled(
      Array.from({ length: rpm * 3 }, (_, index) => ask(replicas[index % 3]!, keys.gina)),
    )
    const elapsed = performance.now() - started
    const admitted = outcomes.filter((outcome) => outcome.status === 'fulfilled').length
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        assert.ok(outcome.reason instanceof OpenAI.RateLimitError, String(outcome.reason))
        assert.equal(outcome.reason.code, 'rate_limit_exceeded')
      }
    }
    // The bucket refills one request every 60 s / rpm while the burst runs; nothing else may pass.
    const refilled = Math.floor(elapsed / (60_000 / rpm))
    assert.ok(admitted >= rpm, `admitted ${admitted} of ${rpm}`)
    assert.ok(admitted <= rpm + refilled, `admitted ${admitted}, limit ${rpm} + ${refilled}`)
    // Every replica sees the shared state.
    for (const replica of replicas) {
      const error = await apiError(ask(replica, keys.gina))
      assert.equal(error.status, 429)
      assert.equal(error.headers?.get('x-ratelimit-remaining-requests'), '0')
    }
  })

  test('a budget spent on one replica is exhausted on the others', async () => {
    let spent = 0
    let replica = 0
    for (; replica < 6 && spent < 0.01; replica++) {
      const data = await ask(replicas[replica % 3]!, keys.hank)
      spent += ((data.usage?.total_tokens ?? 0) * 1000) / 1e6
    }
    assert.ok(spent >= 0.01)
    const error = await apiError(ask(replicas[replica % 3]!, keys.hank))
    assert.equal(error.status, 429)
    assert.equal(error.code, 'insufficient_quota')
  })

  test('tokens settled on one replica count on the others', async () => {
    // Estimate: 4 (text) + 4 (message) + 10 (max_tokens) = 18 of 60; the mock uses far fewer.
    const first = await replicas[0]!
      .clientFor(keys.ivan)
      .chat.completions.create({
        model: 'mock-echo',
        messages: [{ role: 'user', content: 'one two three' }],
        max_tokens: 10,
      })
      .withResponse()
    assert.equal(first.response.headers.get('x-ratelimit-remaining-tokens'), '42')
    const used = first.data.usage?.total_tokens ?? 0
    const second = await replicas[1]!
      .clientFor(keys.ivan)
      .chat.completions.create({
        model: 'mock-echo',
        messages: [{ role: 'user', content: 'one two three' }],
        max_tokens: 10,
      })
      .withResponse()
    // Only the real tokens of the first request stay charged (give or take one token of refill).
    const remaining = Number(second.response.headers.get('x-ratelimit-remaining-tokens'))
    assert.ok(Math.abs(remaining - (60 - used - 18)) <= 1, `remaining ${remaining}, used ${used}`)
  })
})

describe('Redis unreachable', { skip }, () => {
  const unreachable = 'redis://127.0.0.1:1'
  const gateways: TestGateway[] = []
  after(() => Promise.all(gateways.map((gateway) => gateway.stop(0))))

  for (const mode of ['open', 'closed'] as const) {
    test(`fails ${mode}${mode === 'open' ? ' (the default): admits limited keys without headers' : ': refuses limited keys with 503'}`, async () => {
      const gateway = await startTestGateway(
        replicaConfig(unreachable, `{ redis_failure: ${mode}, redis_timeout_ms: 200 }`),
        {},
        { keys: limitedKeys },
      )
      gateways.push(gateway)
      const started = performance.now()
      if (mode === 'open') {
        const { response } = await gateway
          .clientFor(keys.gina)
          .chat.completions.create({
            model: 'mock-echo',
            messages: [{ role: 'user', content: 'hi' }],
          })
          .withResponse()
        assert.equal(response.status, 200)
        assert.equal(response.headers.get('x-ratelimit-limit-requests'), null)
      } else {
        const error = await apiError(ask(gateway, keys.gina))
        assert.equal(error.status, 503)
        assert.equal(error.code, 'limits_unavailable')
      }
      assert.ok(performance.now() - started < 3000, 'bounded by the Redis timeout')
      // A key without limits never touches Redis.
      assert.ok(await ask(gateway, testKey))
    })
  }
})

describe('serve --workers 2 shares limits through Redis', { skip }, () => {
  test(`${rpm * 3} concurrent requests over separate connections: exactly the limit is admitted`, async () => {
    const prefix = testPrefix()
    const cwd = mkdtempSync(join(tmpdir(), 'switchyard-workers-redis-'))
    writeFileSync(
      join(cwd, 'switchyard.yaml'),
      `${replicaConfig(redisUrl, `{ redis_prefix: "${prefix}", redis_timeout_ms: 2000 }`)}
auth: { keys: [ ${limitedKeys[0]} ] }
store: { url: "sqlite:${join(cwd, 'switchyard.db')}" }
`,
    )
    const server = await serve(['--port', '0', '--workers', '2'], { cwd })
    try {
      const deadline = Date.now() + 15_000
      while (server.stdout().match(/listening on/g)?.length !== 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.equal(server.stdout().match(/listening on/g)?.length, 2, server.stderr())
      assert.doesNotMatch(server.stdout(), /are per worker/)
      // Concurrent requests open separate connections, which the primary hands out round-robin:
      // each worker alone would admit the full limit.
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: keys.gina, maxRetries: 0 })
      const started = performance.now()
      const outcomes = await Promise.allSettled(
        Array.from({ length: rpm * 3 }, () =>
          client.chat.completions.create({
            model: 'mock-echo',
            messages: [{ role: 'user', content: 'one two three' }],
          }),
        ),
      )
      const elapsed = performance.now() - started
      const admitted = outcomes.filter((outcome) => outcome.status === 'fulfilled').length
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          assert.ok(outcome.reason instanceof OpenAI.RateLimitError, String(outcome.reason))
        }
      }
      const refilled = Math.floor(elapsed / (60_000 / rpm))
      assert.ok(admitted >= rpm, `admitted ${admitted} of ${rpm}`)
      assert.ok(admitted <= rpm + refilled, `admitted ${admitted}, limit ${rpm} + ${refilled}`)
    } finally {
      server.child.kill('SIGKILL')
      await server.exited
      await deleteKeys(prefix)
    }
  })
})
