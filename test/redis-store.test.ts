/**
 * How the Redis store batches its commands, watched through Redis's MONITOR: one turn's
 * settlements merge per key and period into one script call, an admission takes them along ahead
 * of it, and admissions of one key held back while others are in flight go as one script call that
 * decides them in the order they were issued. Needs 127.0.0.1:6379 (see helpers/redis.ts).
 */
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { budgetPeriod } from '../src/limits/budget-period.ts'
import { createMemoryStore } from '../src/limits/memory-store.ts'
import { windowMs } from '../src/limits/rate-bucket.ts'
import { createRedisStore } from '../src/limits/redis-store.ts'
import type { LimitStore } from '../src/limits/store.ts'
import { deleteKeys, redisSkipReason, redisUrl, testPrefix } from './helpers/redis.ts'

const skip = await redisSkipReason()

describe('Redis store: batched commands', { skip }, () => {
  const prefix = testPrefix()
  let store: LimitStore
  let client: Redis
  let monitorSource: Redis
  let monitor: Awaited<ReturnType<Redis['monitor']>>
  /** The scripts this suite's store ran, in Redis's order: `[keys, args]` of each EVAL/EVALSHA. */
  const scripts: { keys: string[]; args: string[] }[] = []
  const seen: string[] = []
  /** Each script call in order: 'settle', or how many admissions it decided. */
  const calls = () =>
    scripts.map(({ keys, args }) => (keys.length === 2 ? 'settle' : admissionsIn(args)))

  before(async () => {
    store = createRedisStore({ url: redisUrl, prefix, timeoutMs: 2000, onConnectionError() {} })
    client = new Redis(redisUrl)
    monitorSource = new Redis(redisUrl)
    monitor = await monitorSource.monitor()
    monitor.on('monitor', (_time: string, args: string[]) => {
      const [command, , keyCount, ...rest] = args
      if (command === undefined) return
      seen.push(args.join(' '))
      if (!/^eval(sha)?$/i.test(command) || !rest[0]?.startsWith(prefix)) return
      const count = Number(keyCount)
      scripts.push({ keys: rest.slice(0, count), args: rest.slice(count) })
    })
  })

  after(async () => {
    await store.close()
    monitor.disconnect()
    monitorSource.disconnect()
    await deleteKeys(prefix)
    client.disconnect()
  })

  /** Counts the socket writes (write(2) or writev(2) calls) that carry `marker`, until `stop`. */
  function countWrites(marker: string): { readonly count: number; stop(): void } {
    const socket = Socket.prototype
    const { _write: write, _writev: writev } = socket
    if (writev === undefined) throw new Error('net.Socket has no _writev')
    let count = 0
    const carries = (data: unknown) => String(data).includes(marker)
    socket._write = function (this: Socket, chunk, encoding, callback) {
      if (carries(chunk)) count++
      write.call(this, chunk, encoding, callback)
    }
    socket._writev = function (this: Socket, chunks, callback) {
      if (chunks.some(({ chunk }) => carries(chunk))) count++
      writev.call(this, chunks, callback)
    }
    return {
      get count() {
        return count
      },
      stop() {
        socket._write = write
        socket._writev = writev
      },
    }
  }

  /** Waits until MONITOR has relayed everything sent before this call. */
  async function monitorCaughtUp(): Promise<void> {
    const marker = `${prefix}marker:${seen.length}`
    await client.get(marker)
    for (let wait = 0; wait < 200 && !seen.some((line) => line.includes(marker)); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    assert.ok(
      seen.some((line) => line.includes(marker)),
      'MONITOR relayed the marker',
    )
  }

  test('one turn’s settlements of a key and period become one script call, with the sums', async () => {
    const counters = store.counters('alice')
    const now = Date.UTC(2026, 10, 26, 12)
    const period = budgetPeriod('day', now)
    scripts.length = 0
    // Three requests of one key end in the same turn, as they do under load.
    await Promise.all([
      counters.settle({ now, tpm: 600, tokenDelta: 10, cost: 0.5, period }),
      counters.settle({ now, tpm: 600, tokenDelta: 15, cost: 0.25, period }),
      counters.settle({ now, tpm: 600, tokenDelta: 5, cost: 0.75, period }),
    ])
    await monitorCaughtUp()
    const settlements = scripts.filter(({ keys }) => keys.length === 2)
    assert.equal(settlements.length, 1, JSON.stringify(scripts))
    const base = `${prefix}{alice}:`
    assert.deepEqual(settlements[0]!.keys, [`${base}tpm`, `${base}spend:${period.label}`])
    // The bucket is full again 30 tokens' worth of the window later; the spend is their sum.
    assert.equal(Number(await client.get(`${base}tpm`)), now + (30 * windowMs) / 600)
    assert.equal(Number(await client.get(`${base}spend:${period.label}`)), 1.5)
  })

  test('an admission takes the turn’s settlements along, ahead of it, and sees them', async () => {
    const counters = store.counters('bob')
    const now = Date.UTC(2026, 10, 26, 12)
    scripts.length = 0
    // A request ends, using 40 tokens more than its estimate, and the next is admitted in the
    // same turn: the admission must count those 40.
    const settled = counters.settle({ now, tpm: 600, tokenDelta: 40, cost: 0, period: undefined })
    const admitted = await counters.admit({
      now,
      rpm: undefined,
      tpm: 600,
      tokens: 20,
      budget: undefined,
    })
    await settled
    assert.equal(admitted.verdict, 'admitted')
    // Debt in milliseconds of the window: 40 tokens before, 60 after.
    assert.equal(admitted.tokens.before, (40 * windowMs) / 600)
    assert.equal(admitted.tokens.after, (60 * windowMs) / 600)
    await monitorCaughtUp()
    assert.deepEqual(calls(), ['settle', 1])
  })

  test('settlements of different keys in one turn are one script call each', async () => {
    const now = Date.UTC(2026, 10, 26, 12)
    scripts.length = 0
    await Promise.all(
      ['carol', 'dave', 'carol'].map((id) =>
        store.counters(id).settle({ now, tpm: 600, tokenDelta: 6, cost: 0, period: undefined }),
      ),
    )
    await monitorCaughtUp()
    assert.deepEqual(scripts.map(({ keys }) => keys[0]).sort(), [
      `${prefix}{carol}:tpm`,
      `${prefix}{dave}:tpm`,
    ])
    assert.equal(Number(await client.get(`${prefix}{carol}:tpm`)), now + (12 * windowMs) / 600)
  })

  test('admissions sent while another waits for Redis leave in one write and one script call, in order and exact', async () => {
    const counters = store.counters('erin')
    const now = Date.UTC(2026, 10, 26, 12)
    scripts.length = 0
    // The first is written at once; the other nine wait for the end of the poll, in one write.
    const input = { now, rpm: 5, tpm: undefined, tokens: 0, budget: undefined }
    const writes = countWrites('{erin}')
    let results: Awaited<ReturnType<typeof counters.admit>>[]
    try {
      results = await Promise.all(Array.from({ length: 10 }, () => counters.admit(input)))
    } finally {
      writes.stop()
    }
    assert.equal(writes.count, 2, 'one write for the first admission, one for the nine after it')
    assert.deepEqual(
      results.map((result) => result.verdict),
      [...Array(5).fill('admitted'), ...Array(5).fill('rpm')],
    )
    // Each admitted one saw the one before it: 0, 1, 2, 3, 4 requests' worth of debt.
    assert.deepEqual(
      results.slice(0, 5).map((result) => Math.round((result.requests.before * 5) / windowMs)),
      [0, 1, 2, 3, 4],
    )
    await monitorCaughtUp()
    // One call of one, then one call of nine.
    assert.deepEqual(calls(), [1, 9])
  })

  test('a poll of many admissions for one key is split into calls of at most 64, in order', async () => {
    const counters = store.counters('jay')
    const now = Date.UTC(2026, 10, 26, 12)
    scripts.length = 0
    const input = { now, rpm: 1000, tpm: undefined, tokens: 0, budget: undefined }
    const results = await Promise.all(Array.from({ length: 150 }, () => counters.admit(input)))
    assert.ok(results.every((result) => result.verdict === 'admitted'))
    // Each saw every one before it, across the calls: 0, 1, 2 … 149 requests' worth of debt.
    assert.deepEqual(
      results.map((result) => Math.round((result.requests.before * 1000) / windowMs)),
      Array.from({ length: 150 }, (_, index) => index),
    )
    await monitorCaughtUp()
    assert.deepEqual(calls(), [1, 64, 64, 21])
  })

  test('a burst decided in one call matches the memory store, admission by admission', async () => {
    const memory = createMemoryStore().counters('kim')
    const redisCounters = store.counters('kim')
    const start = Date.UTC(2026, 10, 26, 12)
    const period = budgetPeriod('day', start)
    // Spend below the budget in both stores, then a burst that runs into every limit in turn.
    await memory.seedSpend(period, 0.5, start)
    await redisCounters.seedSpend(period, 0.5, start)
    const inputs = Array.from({ length: 40 }, (_, index) => ({
      now: start + index * 150,
      rpm: 20,
      tpm: index < 15 ? 150 : undefined,
      tokens: 7 + ((index * 13) % 29),
      budget: { maxSpend: index < 35 ? 1 : 0.4, period },
    }))
    scripts.length = 0
    const fromRedis = await Promise.all(inputs.map((input) => redisCounters.admit(input)))
    const fromMemory: Awaited<ReturnType<typeof memory.admit>>[] = []
    for (const input of inputs) fromMemory.push(await memory.admit(input))
    const verdicts = fromRedis.map((result) => result.verdict)
    assert.deepEqual(
      verdicts,
      fromMemory.map((result) => result.verdict),
    )
    // Admitted, then the tokens run out, then requests, then the budget (memory: 7a 8t 14a 6r 5b).
    assert.ok(
      ['admitted', 'rpm', 'tpm', 'budget'].every((verdict) => verdicts.includes(verdict as never)),
      verdicts.join(' '),
    )
    for (const [index, result] of fromRedis.entries()) {
      const expected = fromMemory[index]!
      // Redis stores each bucket in whole microseconds' worth of milliseconds (three decimals).
      for (const field of ['before', 'after'] as const) {
        assert.ok(Math.abs(result.requests[field] - expected.requests[field]) < 0.01, `${index}`)
        assert.ok(Math.abs(result.tokens[field] - expected.tokens[field]) < 0.01, `${index}`)
      }
      assert.equal(result.spend, expected.spend)
    }
    // Written once at the end: the last admitted request's expiry, one second after its bucket
    // would be full again (a little of it gone by now).
    const lastAdmitted = fromMemory.findLast((result) => result.verdict === 'admitted')!
    const expiry = Math.ceil(lastAdmitted.requests.after) + 1000
    const left = await client.pttl(`${prefix}{kim}:rpm`)
    assert.ok(left > expiry - 1000 && left <= expiry, `${left} against ${expiry}`)
    await monitorCaughtUp()
    assert.deepEqual(calls(), [1, 39])
  })

  test('a turn’s settlements and the admissions gathered with them leave in one write', async () => {
    const counters = store.counters('lou')
    const now = Date.UTC(2026, 10, 26, 12)
    const input = { now, rpm: 100, tpm: 600, tokens: 6, budget: undefined }
    scripts.length = 0
    const writes = countWrites('{lou}')
    try {
      // One admission goes at once; a request ends and three more arrive in the same turn.
      const first = counters.admit(input)
      const settled = counters.settle({ now, tpm: 600, tokenDelta: 12, cost: 0, period: undefined })
      const rest = await Promise.all([1, 2, 3].map(() => counters.admit(input)))
      await Promise.all([first, settled])
      // The three saw the settlement: 6 (first) + 12 settled, then 6 more each.
      assert.deepEqual(
        rest.map((result) => Math.round((result.tokens.before * 600) / windowMs)),
        [18, 24, 30],
      )
    } finally {
      writes.stop()
    }
    assert.equal(writes.count, 2, 'the first admission, then the settlement with the three')
    await monitorCaughtUp()
    assert.deepEqual(calls(), [1, 'settle', 3])
  })

  test('admissions of different keys in one poll are one script call per key, each exact', async () => {
    const now = Date.UTC(2026, 10, 26, 12)
    scripts.length = 0
    const input = { now, rpm: 2, tpm: undefined, tokens: 0, budget: undefined }
    const ids = ['hal', 'ivy', 'hal', 'ivy', 'hal', 'ivy', 'hal']
    const results = await Promise.all(ids.map((id) => store.counters(id).admit(input)))
    const verdicts = (id: string) =>
      results.filter((_, index) => ids[index] === id).map((result) => result.verdict)
    assert.deepEqual(verdicts('hal'), ['admitted', 'admitted', 'rpm', 'rpm'])
    assert.deepEqual(verdicts('ivy'), ['admitted', 'admitted', 'rpm'])
    await monitorCaughtUp()
    // The first hal at once; then the poll's three ivy and three hal, one call each.
    assert.deepEqual(
      scripts.map(({ keys, args }) => `${keys[0]} ${admissionsIn(args)}`),
      [`${prefix}{hal}:rpm 1`, `${prefix}{ivy}:rpm 3`, `${prefix}{hal}:rpm 3`],
    )
  })

  test('after Redis forgets the scripts (a restart), batched settlements and admissions still land', async () => {
    const now = Date.UTC(2026, 10, 26, 12)
    const input = { now, rpm: 100, tpm: 600, tokens: 6, budget: undefined }
    await store.counters('frank').admit(input)
    await client.script('FLUSH')
    // Two keys' settlements in one write, then an admission that takes a third along: every
    // script is unknown to Redis now and goes again with its source.
    const settled = Promise.all([
      store.counters('frank').settle({ now, tpm: 600, tokenDelta: 4, cost: 0, period: undefined }),
      store.counters('gina').settle({ now, tpm: 600, tokenDelta: 6, cost: 0, period: undefined }),
    ])
    await settled
    await client.script('FLUSH')
    const late = store
      .counters('gina')
      .settle({ now, tpm: 600, tokenDelta: 6, cost: 0, period: undefined })
    const admitted = await store.counters('gina').admit(input)
    await late
    assert.equal(admitted.verdict, 'admitted')
    // gina: 6 + 6 settled before this admission, which sees both and adds its own 6.
    assert.equal(admitted.tokens.before, (12 * windowMs) / 600)
    assert.equal(admitted.tokens.after, (18 * windowMs) / 600)
    // frank: the first admission's 6 and the settlement's 4.
    assert.equal(Number(await client.get(`${prefix}{frank}:tpm`)), now + (10 * windowMs) / 600)
  })
})

/** Admissions one admission script call decided: its arguments are the window, then five each. */
function admissionsIn(args: readonly string[]): number {
  return (args.length - 1) / 5
}
