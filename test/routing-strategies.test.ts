import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { backoffDelay, retryDelay } from '../src/routing/backoff-delay.ts'
import { createCircuitBreakers } from '../src/routing/circuit-breaker.ts'
import { type ConditionContext, compileQuery } from '../src/routing/condition-query.ts'
import { routeConfigSchema } from '../src/routing/config.ts'
import { pickLeastBusy } from '../src/routing/pick-least-busy.ts'
import { pickLowestLatency } from '../src/routing/pick-lowest-latency.ts'
import { pickWeighted } from '../src/routing/pick-weighted.ts'

/** Portkey's condition shape (`then` written through a helper: linters take it for a thenable). */
function condition(query: Record<string, unknown>, target: string): Record<string, unknown> {
  return Object.fromEntries([
    ['query', query],
    ['then', target],
  ])
}

/** mulberry32: a small seeded generator, so the statistics below are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

describe('pickWeighted', () => {
  test('lands within statistical bounds of the weights over many picks', () => {
    const targets = [
      { id: 'a', weight: 3 },
      { id: 'b', weight: 1 },
      { id: 'c', weight: 0 },
      { id: 'd', weight: 0.5 },
    ]
    const random = seeded(42)
    const counts = new Map<string, number>()
    const draws = 45_000
    for (let index = 0; index < draws; index++) {
      const picked = pickWeighted(targets, random)!
      counts.set(picked.id, (counts.get(picked.id) ?? 0) + 1)
    }
    assert.equal(counts.get('c'), undefined, 'weight 0 is never picked')
    for (const [id, weight] of [
      ['a', 3],
      ['b', 1],
      ['d', 0.5],
    ] as const) {
      const expected = (draws * weight) / 4.5
      const sd = Math.sqrt(draws * (weight / 4.5) * (1 - weight / 4.5))
      const observed = counts.get(id) ?? 0
      assert.ok(
        Math.abs(observed - expected) < 4 * sd,
        `${id}: ${observed} vs ${expected} ± ${4 * sd}`,
      )
    }
  })

  test('is exact at the edges of the random range', () => {
    const targets = [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 3 },
    ]
    assert.equal(pickWeighted(targets, () => 0)!.id, 'a')
    assert.equal(pickWeighted(targets, () => 0.2499)!.id, 'a')
    assert.equal(pickWeighted(targets, () => 0.25)!.id, 'b')
    assert.equal(pickWeighted(targets, () => 0.9999999999)!.id, 'b')
    assert.equal(
      pickWeighted([{ weight: 0 }], () => 0.5),
      undefined,
    )
    assert.equal(
      pickWeighted([], () => 0.5),
      undefined,
    )
  })
})

describe('least busy and lowest latency', () => {
  const targets = [
    { id: 'a', weight: 1 },
    { id: 'b', weight: 1 },
    { id: 'c', weight: 1 },
  ]
  test('least_busy picks the fewest in flight, ties by weight', () => {
    const inFlight = { a: 3, b: 1, c: 2 } as Record<string, number>
    assert.equal(
      pickLeastBusy(
        targets,
        (target) => inFlight[target.id]!,
        () => 0.99,
      )!.id,
      'b',
    )
    const tied = { a: 1, b: 5, c: 1 } as Record<string, number>
    assert.equal(
      pickLeastBusy(
        targets,
        (target) => tied[target.id]!,
        () => 0,
      )!.id,
      'a',
    )
    assert.equal(
      pickLeastBusy(
        targets,
        (target) => tied[target.id]!,
        () => 0.99,
      )!.id,
      'c',
    )
  })
  test('lowest_latency picks the fastest, and measures unmeasured targets first', () => {
    const measured = { a: 120, b: 40, c: 300 } as Record<string, number | undefined>
    assert.equal(pickLowestLatency(targets, (target) => measured[target.id], Math.random)!.id, 'b')
    const partly = { a: 120, b: 40, c: undefined } as Record<string, number | undefined>
    assert.equal(pickLowestLatency(targets, (target) => partly[target.id], Math.random)!.id, 'c')
  })
})

describe('backoff', () => {
  test('full jitter: a random share of base * 2^retry, capped', () => {
    const options = { base: 100, cap: 1000, random: () => 0.5 }
    assert.equal(backoffDelay(0, options), 50)
    assert.equal(backoffDelay(1, options), 100)
    assert.equal(backoffDelay(3, options), 400)
    assert.equal(backoffDelay(10, options), 500, 'capped at 1000 before the jitter')
    assert.equal(backoffDelay(2, { ...options, random: () => 0 }), 0)
    assert.equal(backoffDelay(2, { ...options, random: () => 0.999 }), 399)
  })
  test('retry-after wins over backoff, up to the cap; beyond it, no retry', () => {
    const options = {
      base: 100,
      cap: 1000,
      random: () => 0.5,
      maxRetryAfter: 5000,
      useRetryAfter: true,
    }
    assert.equal(retryDelay(0, 1.5, options), 1500)
    assert.equal(retryDelay(0, 0.2, options), 200)
    assert.equal(retryDelay(0, 6, options), undefined)
    assert.equal(retryDelay(1, undefined, options), 100)
    assert.equal(retryDelay(1, 3, { ...options, useRetryAfter: false }), 100)
  })
})

describe('circuit breaker', () => {
  test('opens after the threshold, cools down, lets one probe through, then closes', () => {
    let now = 1_000
    const breakers = createCircuitBreakers({
      failureThreshold: 3,
      cooldownMs: 10_000,
      now: () => now,
    })
    const key = 'vllm\u0000llama'
    assert.equal(breakers.state(key), 'closed')
    breakers.fail(key)
    breakers.fail(key)
    assert.equal(breakers.state(key), 'closed')
    breakers.succeed(key)
    breakers.fail(key)
    breakers.fail(key)
    assert.equal(breakers.state(key), 'closed', 'a success resets the count')
    breakers.fail(key)
    assert.equal(breakers.state(key), 'open')
    assert.equal(breakers.acquire(key), false)
    assert.equal(breakers.isAvailable(key), false)
    now += 9_999
    assert.equal(breakers.state(key), 'open')
    now += 1
    assert.equal(breakers.state(key), 'half-open')
    assert.equal(breakers.acquire(key), true, 'one probe')
    assert.equal(breakers.acquire(key), false, 'only one probe at a time')
    assert.equal(breakers.isAvailable(key), false)
    breakers.fail(key)
    assert.equal(breakers.state(key), 'open', 'a failed probe opens it again')
    now += 10_000
    assert.equal(breakers.acquire(key), true)
    breakers.succeed(key)
    assert.equal(breakers.state(key), 'closed')
    assert.equal(breakers.acquire(key), true)
    assert.equal(breakers.acquire(key), true)
  })
  test('a probe that ends without a verdict frees the slot', () => {
    let now = 0
    const breakers = createCircuitBreakers({ failureThreshold: 1, cooldownMs: 100, now: () => now })
    breakers.fail('k')
    now = 100
    assert.equal(breakers.acquire('k'), true)
    breakers.release('k')
    assert.equal(breakers.acquire('k'), true)
  })
})

describe('conditional queries', () => {
  const context = (metadata: Record<string, string>, params: Record<string, unknown>) =>
    ({ metadata, params, url: { pathname: '/v1/chat/completions' } }) satisfies ConditionContext
  test('operators over metadata, params and url', () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ 'metadata.tier': 'pro' }, true],
      [{ 'metadata.tier': { $eq: 'free' } }, false],
      [{ 'metadata.tier': { $ne: 'free' } }, true],
      [{ 'metadata.tier': { $in: ['pro', 'team'] } }, true],
      [{ 'metadata.tier': { $nin: ['pro', 'team'] } }, false],
      [{ 'metadata.level': { $gt: 2, $lte: 3 } }, true],
      [{ 'metadata.level': { $gte: 4 } }, false],
      [{ 'params.max_tokens': { $gt: 1000 } }, true],
      [{ 'params.max_tokens': { $lt: 1000 } }, false],
      [{ 'params.model': { $regex: '^gpt-4o' } }, true],
      [{ 'params.response_format.type': 'json_object' }, true],
      [{ 'params.missing': { $eq: 'x' } }, false],
      [{ 'url.pathname': { $regex: 'chat' } }, true],
      [{ $or: [{ 'metadata.tier': 'free' }, { 'params.model': 'gpt-4o-mini' }] }, true],
      [{ $and: [{ 'metadata.tier': 'pro' }, { 'params.model': 'other' }] }, false],
      [{ 'metadata.tier': 'pro', 'params.max_tokens': { $gt: 5000 } }, false],
    ]
    const request = {
      model: 'gpt-4o-mini',
      max_tokens: 2048,
      response_format: { type: 'json_object' },
    }
    for (const [query, expected] of cases) {
      const parsed = routeConfigSchema.parse({
        strategy: { mode: 'conditional', conditions: [condition(query, 'a')] },
        targets: [{ name: 'a', provider: 'p' }],
      })
      const compiled = compileQuery(parsed.strategy!.conditions![0]!.query)
      assert.equal(
        compiled(context({ tier: 'pro', level: '3' }, request)),
        expected,
        JSON.stringify(query),
      )
    }
  })
})

describe('config schema', () => {
  const problemAt = (config: unknown) => {
    const result = routeConfigSchema.safeParse(config)
    assert.equal(result.success, false)
    const issue = result.error!.issues[0]!
    return { path: issue.path.join('.'), message: issue.message }
  }
  test('accepts a Portkey config as written', () => {
    const config = {
      strategy: { mode: 'fallback', on_status_codes: [429, 500] },
      retry: { attempts: 3, on_status_codes: [429], use_retry_after_header: true },
      request_timeout: 10000,
      targets: [
        { virtual_key: 'openai-prod', override_params: { model: 'gpt-4o' }, weight: 1 },
        {
          strategy: { mode: 'loadbalance' },
          targets: [
            { provider: '@vllm', weight: 0.7 },
            { provider: 'vllm-b', weight: 0.3 },
          ],
        },
      ],
    }
    assert.equal(routeConfigSchema.safeParse(config).success, true)
  })
  test('names the path of what is wrong', () => {
    assert.deepEqual(
      problemAt({
        strategy: { mode: 'fallback' },
        targets: [{ provider: 'a', cache: { mode: 'simple' } }],
      }),
      {
        path: 'targets.0.cache',
        message: 'cache applies to the whole config: set it at the top level',
      },
    )
    assert.equal(
      problemAt({ strategy: { mode: 'roundrobin' }, targets: [{ provider: 'a' }] }).path,
      'strategy.mode',
    )
    assert.deepEqual(problemAt({ targets: [{ provider: 'a' }] }), {
      path: 'targets',
      message: 'a config with targets needs strategy.mode',
    })
    assert.match(
      problemAt({
        strategy: {
          mode: 'conditional',
          conditions: [condition({ 'metadata.x': 'y' }, 'nope')],
        },
        targets: [{ name: 'a', provider: 'a' }],
      }).message,
      /no target named "nope"; named targets: a/,
    )
    assert.equal(
      problemAt({
        strategy: {
          mode: 'conditional',
          conditions: [condition({ 'metadata.x': { $regex: '(a+)+$' } }, 'a')],
        },
        targets: [{ name: 'a', provider: 'a' }],
      }).path,
      'strategy.conditions.0.query.metadata.x.$regex',
    )
    assert.equal(
      problemAt({
        strategy: { mode: 'conditional', conditions: [condition({ 'body.x': 1 }, 'a')] },
        targets: [{ name: 'a', provider: 'a' }],
      }).path,
      'strategy.conditions.0.query.body.x',
    )
    assert.equal(problemAt({ provider: 'a', retry: { attempts: 9 } }).path, 'retry.attempts')
    assert.equal(problemAt({ model: 'x' }).message.includes('needs a provider'), true)
  })
})
