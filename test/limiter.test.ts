/**
 * The limiter against both stores with an injected clock: the same table of behaviours must hold
 * in memory and in Redis (the Redis run needs 127.0.0.1:6379; see helpers/redis.ts).
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import type { KeyBudget, KeyLimits } from '../src/auth/key-shape.ts'
import type { ClientKey } from '../src/auth/keys.ts'
import type { ChatRequest } from '../src/core/chat.ts'
import { GatewayError } from '../src/core/errors.ts'
import { emptyRecord, type RequestRecord } from '../src/core/request-record.ts'
import { budgetPeriod } from '../src/limits/budget-period.ts'
import { estimateTokens } from '../src/limits/estimate-tokens.ts'
import { formatDuration } from '../src/limits/format-duration.ts'
import { createLimiter, type LimiterOptions } from '../src/limits/limiter.ts'
import { createMemoryStore } from '../src/limits/memory-store.ts'
import { createRedisStore } from '../src/limits/redis-store.ts'
import type { LimitStore } from '../src/limits/store.ts'
import { deleteKeys, redisSkipReason, redisUrl, testPrefix } from './helpers/redis.ts'

const redisSkip = await redisSkipReason()
const prefix = testPrefix()
after(() => (redisSkip ? undefined : deleteKeys(prefix)))

let keyCount = 0
function clientKey(limits?: KeyLimits, budget?: KeyBudget): ClientKey {
  keyCount++
  return {
    id: `test:key-${keyCount}`,
    name: `key-${keyCount}`,
    limits,
    budget,
    expiresAt: undefined,
    labels: undefined,
    allows: () => true,
  }
}

/** 40 characters of text (10 tokens) + 4 per message + max_tokens 10: an estimate of 24. */
const request: ChatRequest = {
  model: 'm',
  messages: [{ role: 'user', content: 'x'.repeat(40) }],
  max_tokens: 10,
}

function finished(tokens: { prompt: number; completion: number }, cost = 0): RequestRecord {
  const record = emptyRecord('r', 0)
  record.promptTokens = tokens.prompt
  record.completionTokens = tokens.completion
  record.cost = cost
  return record
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error))
    return error
  }
  assert.fail('expected the request to be refused')
}

const stores: { name: string; skip: string | false; create(): LimitStore }[] = [
  { name: 'memory', skip: false, create: createMemoryStore },
  {
    name: 'Redis',
    skip: redisSkip,
    create: () =>
      createRedisStore({ url: redisUrl, prefix, timeoutMs: 2000, onConnectionError: () => {} }),
  },
]

for (const { name, skip, create } of stores) {
  describe(`limiter over ${name}`, { skip }, () => {
    let time = Date.UTC(2025, 5, 30, 23, 59, 0)
    const store = create()
    const rejected: string[] = []
    const limiter = createLimiter({
      store,
      failure: 'closed',
      now: () => time,
      onRejected: (kind) => rejected.push(kind),
    })
    after(() => limiter.close())

    test('a key with no limits and no budget is not counted at all', async () => {
      assert.equal(await limiter.admit(clientKey(), request, emptyRecord('r', 0)), undefined)
    })

    test('requests per minute: admits the limit, refuses the next, refills over the minute', async () => {
      const key = clientKey({ rpm: 2 })
      const first = await limiter.admit(key, request, emptyRecord('r', 0))
      assert.deepEqual(first?.headers, {
        'x-ratelimit-limit-requests': '2',
        'x-ratelimit-remaining-requests': '1',
        'x-ratelimit-reset-requests': '30s',
      })
      const second = await limiter.admit(key, request, emptyRecord('r', 0))
      assert.equal(second?.headers['x-ratelimit-remaining-requests'], '0')
      assert.equal(second?.headers['x-ratelimit-reset-requests'], '1m0s')
      const error = await rejection(limiter.admit(key, request, emptyRecord('r', 0)))
      assert.equal(error.status, 429)
      assert.equal(error.code, 'rate_limit_exceeded')
      assert.equal(error.retryAfter, 30)
      assert.equal(error.headers?.['retry-after-ms'], '30000')
      assert.equal(error.headers?.['x-ratelimit-remaining-requests'], '0')
      assert.match(error.message, /requests per min \(RPM\) on API key 'key-\d+': Limit 2/)
      assert.equal(rejected.at(-1), 'rpm')
      time += 29_000
      await rejection(limiter.admit(key, request, emptyRecord('r', 0)))
      time += 1_000
      const refilled = await limiter.admit(key, request, emptyRecord('r', 0))
      assert.equal(refilled?.headers['x-ratelimit-remaining-requests'], '0')
    })

    test('the headers go into the response’s own object; a refusal leaves it as it was', async () => {
      const key = clientKey({ rpm: 1 })
      const responseHeaders: Record<string, string> = { 'x-request-id': 'r' }
      const admission = await limiter.admit(key, request, emptyRecord('r', 0), responseHeaders)
      assert.equal(admission?.headers, responseHeaders)
      assert.deepEqual(responseHeaders, {
        'x-request-id': 'r',
        'x-ratelimit-limit-requests': '1',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1m0s',
      })
      const refusedHeaders: Record<string, string> = { 'x-request-id': 's' }
      const error = await rejection(
        limiter.admit(key, request, emptyRecord('s', 0), refusedHeaders),
      )
      assert.deepEqual(refusedHeaders, { 'x-request-id': 's' })
      assert.equal(error.headers?.['x-ratelimit-remaining-requests'], '0')
      assert.equal(error.headers?.['x-request-id'], undefined)
    })

    test('tokens per minute: the estimate is taken first, the real usage settles after', async () => {
      const key = clientKey({ tpm: 100 })
      assert.equal(estimateTokens(request), 24)
      const record = emptyRecord('r', 0)
      const admission = await limiter.admit(key, request, record)
      assert.equal(admission?.headers['x-ratelimit-remaining-tokens'], '76')
      record.promptTokens = 40
      record.completionTokens = 50
      limiter.record(record)
      // 90 real tokens are charged now: 24 more do not fit in 100.
      const error = await rejection(limiter.admit(key, request, emptyRecord('r', 0)))
      assert.equal(error.code, 'rate_limit_exceeded')
      assert.equal(error.headers?.['x-ratelimit-remaining-tokens'], '10')
      assert.equal(error.headers?.['retry-after-ms'], '8400')
      assert.match(error.message, /tokens per min \(TPM\).*Limit 100, Requested 24/)
      assert.equal(rejected.at(-1), 'tpm')
      time += 8_400
      assert.ok(await limiter.admit(key, request, emptyRecord('r', 0)))
    })

    test('a failed request gives its token estimate back; only the request counts', async () => {
      const key = clientKey({ rpm: 10, tpm: 30 })
      const record = emptyRecord('r', 0)
      await limiter.admit(key, request, record)
      limiter.record(record)
      const next = await limiter.admit(key, request, emptyRecord('r', 0))
      assert.equal(next?.headers['x-ratelimit-remaining-tokens'], '6')
      assert.equal(next?.headers['x-ratelimit-remaining-requests'], '8')
    })

    test('a request larger than the tokens per minute is refused for good', async () => {
      const key = clientKey({ tpm: 20 })
      const error = await rejection(limiter.admit(key, request, emptyRecord('r', 0)))
      assert.equal(error.code, 'rate_limit_exceeded')
      assert.equal(error.retryAfter, undefined)
      assert.equal(error.headers?.['x-should-retry'], 'false')
      assert.match(error.message, /Request too large .* Limit 20, Requested 24/)
    })

    test('a refused request takes nothing from the other limits', async () => {
      const key = clientKey({ rpm: 1, tpm: 1000 })
      await limiter.admit(key, request, emptyRecord('r', 0))
      const error = await rejection(limiter.admit(key, request, emptyRecord('r', 0)))
      assert.equal(error.headers?.['x-ratelimit-remaining-tokens'], '976')
    })

    test('daily budget: refused once spent, with insufficient_quota, renewed at 00:00 UTC', async () => {
      time = Date.UTC(2025, 5, 30, 23, 59, 0)
      const key = clientKey(undefined, { max_spend: 0.05, period: 'day' })
      const record = emptyRecord('r', 0)
      const admission = await limiter.admit(key, request, record)
      assert.deepEqual(admission?.headers, {})
      limiter.record(finished({ prompt: 1, completion: 1 }, 0.03)) // not admitted: ignored
      record.cost = 0.06
      limiter.record(record)
      const error = await rejection(limiter.admit(key, request, emptyRecord('r', 0)))
      assert.equal(error.status, 429)
      assert.equal(error.code, 'insufficient_quota')
      assert.equal(error.type, 'insufficient_quota')
      assert.equal(error.retryAfter, 60)
      assert.equal(error.headers?.['x-should-retry'], 'false')
      assert.match(
        error.message,
        /daily budget \(spent 0.06 of 0.05\); it renews at 2025-07-01T00:00:00.000Z/,
      )
      assert.equal(rejected.at(-1), 'budget')
      time += 60_000
      assert.ok(await limiter.admit(key, request, emptyRecord('r', 0)))
    })

    test('monthly budget: spend below the limit is admitted, at the limit refused', async () => {
      const key = clientKey({ rpm: 100 }, { max_spend: 1, period: 'month' })
      for (const cost of [0.5, 0.25, 0.25]) {
        const record = emptyRecord('r', 0)
        await limiter.admit(key, request, record)
        record.cost = cost
        limiter.record(record)
      }
      const error = await rejection(limiter.admit(key, request, emptyRecord('r', 0)))
      assert.equal(error.code, 'insufficient_quota')
      assert.match(error.message, /monthly budget \(spent 1 of 1\)/)
    })

    test('a budget starts from the seed once per period; the first seed wins across replicas', async () => {
      time = Date.UTC(2025, 6, 15, 12)
      const key = clientKey(undefined, { max_spend: 1, period: 'month' })
      const calls: [string, string][] = []
      const options = (spend: number): LimiterOptions => ({
        store,
        failure: 'closed',
        now: () => time,
        seed: async (keyId, periodStart) => {
          calls.push([keyId, periodStart.toISOString()])
          return spend
        },
      })
      const first = createLimiter(options(0.9))
      const record = emptyRecord('r', 0)
      await first.admit(key, request, record)
      await first.admit(key, request, emptyRecord('r', 0))
      assert.deepEqual(calls, [[key.id, '2025-07-01T00:00:00.000Z']])
      record.cost = 0.1
      first.record(record)
      // Another replica seeds later with a stale value: the counter already exists and wins.
      const second = createLimiter(options(0))
      const error = await rejection(second.admit(key, request, emptyRecord('r', 0)))
      assert.equal(error.code, 'insufficient_quota')
      assert.equal(calls.length, 2)
    })
  })
}

describe('limiter failure modes', () => {
  const failing: LimitStore = {
    counters: () => ({
      admit: async () => {
        throw new Error('connection refused')
      },
      settle: async () => {},
      seedSpend: async () => {},
    }),
    close: async () => {},
  }
  const warnings: string[] = []
  const logger = { warn: (_details: object, message: string) => warnings.push(message) }

  test('open: admits without limits and logs a warning, at most every ten seconds', async () => {
    let time = 0
    const limiter = createLimiter({ store: failing, failure: 'open', logger, now: () => time })
    const key = clientKey({ rpm: 1 })
    assert.equal(await limiter.admit(key, request, emptyRecord('r', 0)), undefined)
    assert.equal(await limiter.admit(key, request, emptyRecord('r', 0)), undefined)
    assert.equal(warnings.length, 1)
    time += 10_000
    await limiter.admit(key, request, emptyRecord('r', 0))
    assert.equal(warnings.length, 2)
    assert.match(warnings[0] ?? '', /admitting/)
  })

  test('closed: refuses with 503 limits_unavailable', async () => {
    const limiter = createLimiter({ store: failing, failure: 'closed' })
    const error = await rejection(
      limiter.admit(clientKey({ rpm: 1 }), request, emptyRecord('r', 0)),
    )
    assert.equal(error.status, 503)
    assert.equal(error.code, 'limits_unavailable')
  })
})

describe('limit helpers', () => {
  test('durations read like OpenAI reset headers', () => {
    const table: [number, string][] = [
      [0, '0s'],
      [0.2, '1ms'],
      [17, '17ms'],
      [1000, '1s'],
      [8640, '8.64s'],
      [60_000, '1m0s'],
      [86_400, '1m26.4s'],
      [360_000, '6m0s'],
      [3_723_000, '1h2m3s'],
    ]
    for (const [milliseconds, text] of table) assert.equal(formatDuration(milliseconds), text)
  })

  test('the token estimate counts text, parts, tool calls, max tokens and choices', () => {
    assert.equal(
      estimateTokens({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }),
      4 + 2 + 256,
    )
    assert.equal(
      estimateTokens({
        model: 'm',
        n: 2,
        max_completion_tokens: 50,
        max_tokens: 999,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'x'.repeat(8) },
              { type: 'image_url', image_url: { url: 'data:,' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 't', type: 'function', function: { name: 'f', arguments: 'y'.repeat(12) } },
            ],
          },
        ],
      }),
      4 + 2 + 256 + 4 + 3 + 100,
    )
  })

  test('budget periods are UTC days and months', () => {
    const at = Date.UTC(2024, 1, 29, 23, 30)
    assert.deepEqual(budgetPeriod('day', at), {
      start: Date.UTC(2024, 1, 29),
      end: Date.UTC(2024, 2, 1),
      label: '2024-02-29',
    })
    assert.deepEqual(budgetPeriod('month', Date.UTC(2024, 11, 31, 23)), {
      start: Date.UTC(2024, 11, 1),
      end: Date.UTC(2025, 0, 1),
      label: '2024-12-01',
    })
  })
})
