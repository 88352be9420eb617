/**
 * Counters in Redis, shared by every replica. Each admission is one round trip, a Lua script
 * (redis-scripts.ts); admissions of one key issued while others wait for Redis go together, in one
 * script call at the end of the poll. Settlements wait for the end of the event loop's turn: those
 * of one key and period merge (token deltas and costs add up), and the turn's settlements leave
 * together in one write, or ahead of the next admissions in theirs. Keys carry the client key's id
 * as a hash tag (`{config:alice}`) so a key's counters share a Redis Cluster slot, as multi-key
 * scripts need. Commands time out after `timeoutMs`; the limiter decides what a failure means
 * (fail open or closed).
 */

import { createRequire } from 'node:module'
import type { Redis as RedisClient, Result } from 'ioredis'
import type { BudgetPeriod } from './budget-period.ts'
import type { AdmitResult } from './rate-bucket.ts'
import { windowMs } from './rate-bucket.ts'
import { admitScript, settleScript } from './redis-scripts.ts'
import type { KeyCounters, LimitStore } from './store.ts'

export interface RedisStoreOptions {
  url: string
  prefix: string
  timeoutMs: number
  /** The first connection error of an outage (the client reconnects by itself). */
  onConnectionError(error: Error): void
}

/** A spend counter outlives its period by a day, so late settlements still find it. */
const spendGraceMs = 86_400_000

// Loaded only when Redis is configured: the client costs ~25 MB of resident memory.
const require = createRequire(import.meta.url)

/**
 * The scripts as client commands (`defineCommand`): ioredis sends `EVAL` the first time on a
 * connection and `EVALSHA` after, which keeps commands in the order they were issued, and `EVAL`
 * again on `NOSCRIPT` (a restarted Redis).
 */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    switchyardAdmit(...keysThenArgs: (string | number)[]): Result<unknown, Context>
    switchyardSettle(...keysThenArgs: (string | number)[]): Result<unknown, Context>
  }
}

/** One key's settlements in one turn of the event loop, merged. */
interface Settlement {
  tokensKey: string
  spendKey: string
  now: number
  tpm: number
  tokenDelta: number
  cost: number
  timeToLive: number
}

export function createRedisStore(options: RedisStoreOptions): LimitStore {
  const { Redis } = require('ioredis') as typeof import('ioredis')
  const redis = new Redis(options.url, {
    commandTimeout: options.timeoutMs,
    // Queued commands fail after one reconnect attempt instead of waiting for Redis to return.
    maxRetriesPerRequest: 1,
  })
  // Reported once per outage: the client retries every few seconds, and the limiter already
  // warns (throttled) about the requests it affects.
  let connected = true
  redis.on('error', (error: Error) => {
    if (!connected) return
    connected = false
    options.onConnectionError(error)
  })
  redis.on('ready', () => {
    connected = true
  })
  redis.defineCommand('switchyardAdmit', { numberOfKeys: 3, lua: admitScript })
  redis.defineCommand('switchyardSettle', { numberOfKeys: 2, lua: settleScript })

  /**
   * This turn's settlements, by key and period. Sent one by one, each settlement was a write to
   * Redis and a wake-up of it: merged and batched, Redis spends about half the CPU per request
   * (docs/limits.md). Admissions take them along in their own write, ahead of them, so an
   * admission still sees every settlement this process made before it.
   */
  let waiting: SettlementBatch | undefined
  /** The last batch's write, which `close` waits for. */
  let lastWrite: Promise<void> = Promise.resolve()

  function queueSettlement(settlement: Settlement): Promise<void> {
    if (waiting === undefined) {
      waiting = new SettlementBatch()
      lastWrite = waiting.written
      scheduleFlush()
    }
    waiting.add(settlement)
    return waiting.written
  }

  function sendSettlements(): void {
    const batch = waiting
    if (batch === undefined) return
    waiting = undefined
    batch.send(redis)
  }

  /** Commands issued in `send` leave in one write (ioredis writes each command on its own). */
  function inOneWrite(send: () => void): void {
    if (redis.status !== 'ready') {
      send()
      return
    }
    const stream = redis.stream
    stream.cork()
    try {
      send()
    } finally {
      stream.uncork()
    }
  }

  /**
   * While admissions are waiting for Redis, new ones of the same key and budget period gather
   * until the event loop's check phase and go as one script call, which decides them in the order
   * they were issued. ioredis encodes, sends and decodes every command in JavaScript: under
   * `wrk -c32` eight or nine admissions shared a call, and the event loop's Redis work fell from
   * 22 to 16 µs per request (docs/limits.md). An admission with none in flight (one connection's
   * traffic) is sent at once.
   */
  let admitting = 0
  const gathering = new Map<string, AdmissionBatch>()
  /** Batches that reached `maxAdmissionsPerCall` this poll; they leave with the rest. */
  const full: AdmissionBatch[] = []

  async function runAdmit(keys: AdmitKeys, input: AdmitInput): Promise<string> {
    admitting++
    try {
      return await (admitting === 1 ? admitNow(keys, input) : gather(keys, input))
    } finally {
      admitting--
    }
  }

  function admitNow(keys: AdmitKeys, input: AdmitInput): Promise<string> {
    const batch = new AdmissionBatch(keys)
    const reply = batch.add(input)
    inOneWrite(() => {
      sendSettlements()
      batch.send(redis)
    })
    return reply
  }

  function gather(keys: AdmitKeys, input: AdmitInput): Promise<string> {
    // The spend key names the client key and the budget period.
    let batch = gathering.get(keys[2])
    if (batch === undefined || batch.count === maxAdmissionsPerCall) {
      scheduleFlush()
      if (batch !== undefined) full.push(batch)
      batch = new AdmissionBatch(keys)
      gathering.set(keys[2], batch)
    }
    return batch.add(input)
  }

  /** Whether `flush` waits for the check phase already. */
  let flushScheduled = false
  function scheduleFlush(): void {
    if (flushScheduled) return
    flushScheduled = true
    setImmediate(flush)
  }

  /** This turn's settlements, then the admissions gathered in this poll, in one write. */
  function flush(): void {
    flushScheduled = false
    const batches = [...full, ...gathering.values()]
    full.length = 0
    gathering.clear()
    inOneWrite(() => {
      sendSettlements()
      for (const batch of batches) batch.send(redis)
    })
  }

  function counters(keyId: string): KeyCounters {
    const base = `${options.prefix}{${keyId}}:`
    const requestsKey = `${base}rpm`
    const tokensKey = `${base}tpm`
    const spendKey = (period: BudgetPeriod | undefined) => `${base}spend:${period?.label ?? 'none'}`
    return {
      async admit(input) {
        const reply = await runAdmit(
          [requestsKey, tokensKey, spendKey(input.budget?.period)],
          [input.now, input.rpm ?? 0, input.tpm ?? 0, input.tokens, input.budget?.maxSpend ?? -1],
        )
        return parseAdmitReply(reply)
      },
      settle(input) {
        return queueSettlement({
          tokensKey,
          spendKey: spendKey(input.period),
          now: input.now,
          tpm: input.tpm ?? 0,
          tokenDelta: input.tokenDelta,
          cost: input.period === undefined ? 0 : input.cost,
          timeToLive: spendTimeToLive(input.period, input.now),
        })
      },
      async seedSpend(period, spend, now) {
        const timeToLive = spendTimeToLive(period, now)
        await redis.set(spendKey(period), String(spend), 'PX', timeToLive, 'NX')
      },
    }
  }

  return {
    counters,
    async close() {
      // This turn's settlements first.
      flush()
      await lastWrite.catch(() => {})
      if (redis.status === 'ready') {
        await redis.quit().catch(() => redis.disconnect())
      } else {
        redis.disconnect()
      }
    },
  }
}

/** Settlements merged by key and period until they are written, and the promise of that write. */
class SettlementBatch {
  readonly #entries = new Map<string, Settlement>()
  readonly written: Promise<void>
  #resolve!: () => void
  #reject!: (error: unknown) => void

  constructor() {
    this.written = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  /** Merged with an earlier settlement of the same key and period (the spend key names both). */
  add(settlement: Settlement): void {
    const queued = this.#entries.get(settlement.spendKey)
    if (queued === undefined) {
      this.#entries.set(settlement.spendKey, settlement)
      return
    }
    queued.now = settlement.now
    queued.tokenDelta += settlement.tokenDelta
    queued.cost += settlement.cost
    queued.timeToLive = settlement.timeToLive
  }

  /** One script call per entry, in the caller's write; `written` settles when all have answered. */
  send(redis: RedisClient): void {
    try {
      const calls = [...this.#entries.values()].map((entry) =>
        redis.switchyardSettle(...scriptInput(entry)),
      )
      Promise.all(calls).then(
        () => this.#resolve(),
        (error: unknown) => this.#reject(error),
      )
    } catch (error) {
      this.#reject(error)
    }
  }
}

/**
 * One script call decides at most this many admissions: Redis runs a script to the end before
 * anything else, so a poll of many requests for one key is split to keep other clients' waits
 * short.
 */
const maxAdmissionsPerCall = 64

/** The requests, tokens and spend keys of one client key and budget period. */
type AdmitKeys = [string, string, string]
/** now, rpm, tpm (0: none), tokens, max spend (-1: none). */
type AdmitInput = [number, number, number, number, number]

/** Admissions of one key and period, in the order they were issued, and who waits for each. */
class AdmissionBatch {
  readonly #keys: AdmitKeys
  readonly #args: number[] = [windowMs]
  readonly #waiters: { resolve(reply: string): void; reject(error: unknown): void }[] = []

  constructor(keys: AdmitKeys) {
    this.#keys = keys
  }

  get count(): number {
    return this.#waiters.length
  }

  add(input: AdmitInput): Promise<string> {
    this.#args.push(...input)
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  send(redis: RedisClient): void {
    const waiters = this.#waiters
    let reply: Promise<unknown>
    try {
      reply = redis.switchyardAdmit(...this.#keys, ...this.#args)
    } catch (error) {
      reply = Promise.reject(error)
    }
    reply.then(
      (reply) => {
        const replies = typeof reply === 'string' ? reply.split(',') : []
        for (const [index, waiter] of waiters.entries()) {
          const own = replies.length === waiters.length ? replies[index] : undefined
          if (own === undefined)
            waiter.reject(new Error('Unexpected reply from the limiter script'))
          else waiter.resolve(own)
        }
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }
}

function scriptInput(entry: Settlement): (string | number)[] {
  const { tokensKey, spendKey, now, tpm, tokenDelta, cost, timeToLive } = entry
  return [tokensKey, spendKey, now, windowMs, tpm, tokenDelta, cost, timeToLive]
}

function spendTimeToLive(period: BudgetPeriod | undefined, now: number): number {
  return Math.max(1000, Math.ceil((period?.end ?? now) + spendGraceMs - now))
}

const verdicts = new Set<string>(['admitted', 'rpm', 'tpm', 'budget'])

/** One admission's six fields, split from the script's reply by `AdmissionBatch`. */
function parseAdmitReply(reply: string): AdmitResult {
  const fields = reply.split(' ')
  const verdict = fields[0]
  if (fields.length !== 6 || verdict === undefined || !verdicts.has(verdict)) {
    throw new Error('Unexpected reply from the limiter script')
  }
  const number = (index: number) => {
    const value = Number(fields[index])
    if (!Number.isFinite(value)) throw new Error('Unexpected number from the limiter script')
    return value
  }
  return {
    verdict: verdict as AdmitResult['verdict'],
    requests: { before: number(1), after: number(2) },
    tokens: { before: number(3), after: number(4) },
    spend: number(5),
  }
}
