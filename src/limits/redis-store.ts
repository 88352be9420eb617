/**
 * Counters in Redis, shared by every replica. One round trip per admission, each a Lua script
 * (redis-scripts.ts); admissions sent while others wait for Redis leave together at the end of the
 * poll. Settlements wait for the end of the event loop's turn: those of one key and period merge
 * (token deltas and costs add up), and the turn's settlements leave together in one pipeline, one
 * write, or ahead of the next admission in its write. Keys carry the client key's id as a hash tag (`{config:alice}`) so a key's
 * counters share a Redis Cluster slot, as multi-key scripts need. Commands time out after
 * `timeoutMs`; the limiter decides what a failure means (fail open or closed).
 */

import { createRequire } from 'node:module'
import type { ChainableCommander, Redis as RedisClient, Result } from 'ioredis'
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
   * (docs/limits.md). An admission takes them along in its own write, ahead of it, so an
   * admission still sees every settlement this process made before it.
   */
  let waiting: SettlementBatch | undefined
  /** The last batch's write, which `close` waits for. */
  let lastWrite: Promise<void> = Promise.resolve()

  function queueSettlement(settlement: Settlement): Promise<void> {
    if (waiting === undefined) {
      waiting = new SettlementBatch()
      lastWrite = waiting.written
      setImmediate(flushSettlements)
    }
    waiting.add(settlement)
    return waiting.written
  }

  function flushSettlements(): void {
    const batch = waiting
    if (batch === undefined) return
    waiting = undefined
    // One settlement (one connection's worth of traffic) goes alone: a pipeline of one costs more.
    const written =
      batch.size === 1
        ? redis.switchyardSettle(...batch.only()).then(() => [])
        : batch.queueIn(redis.pipeline()).exec()
    written.then(
      (results) => batch.report(results ?? []),
      (error: unknown) => batch.fail(error),
    )
  }

  /**
   * While admissions are waiting for Redis, a new one holds the connection's writes until the
   * event loop's check phase: the admissions of every request that arrived in one poll leave in
   * one write, and their replies come back in one read. An admission with none in flight (one
   * connection's traffic) is written at once.
   */
  let admitting = 0
  let corked: RedisClient['stream'] | undefined
  function corkUntilCheck(): void {
    if (corked !== undefined || redis.status !== 'ready') return
    const stream = redis.stream
    stream.cork()
    corked = stream
    setImmediate(() => {
      corked = undefined
      stream.uncork()
    })
  }

  /** The admission script, after this turn's settlements when there are any, in one write. */
  async function runAdmit(keysThenArgs: (string | number)[]): Promise<unknown> {
    if (admitting > 0) corkUntilCheck()
    admitting++
    try {
      return await admitAfterSettlements(keysThenArgs)
    } finally {
      admitting--
    }
  }

  async function admitAfterSettlements(keysThenArgs: (string | number)[]): Promise<unknown> {
    const batch = waiting
    if (batch === undefined) return redis.switchyardAdmit(...keysThenArgs)
    waiting = undefined
    let results: [Error | null, unknown][]
    try {
      results =
        (await batch
          .queueIn(redis.pipeline())
          .switchyardAdmit(...keysThenArgs)
          .exec()) ?? []
    } catch (error) {
      batch.fail(error)
      throw error
    }
    batch.report(results.slice(0, batch.size))
    const [error, reply] = results[batch.size] ?? [new Error('No reply to the admission')]
    if (error !== null) throw error
    return reply
  }

  function counters(keyId: string): KeyCounters {
    const base = `${options.prefix}{${keyId}}:`
    const requestsKey = `${base}rpm`
    const tokensKey = `${base}tpm`
    const spendKey = (period: BudgetPeriod | undefined) => `${base}spend:${period?.label ?? 'none'}`
    return {
      async admit(input) {
        const reply = await runAdmit([
          requestsKey,
          tokensKey,
          spendKey(input.budget?.period),
          input.now,
          windowMs,
          input.rpm ?? 0,
          input.tpm ?? 0,
          input.tokens,
          input.budget?.maxSpend ?? -1,
        ])
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
      flushSettlements()
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

  get size(): number {
    return this.#entries.size
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

  queueIn(pipeline: ChainableCommander): ChainableCommander {
    for (const entry of this.#entries.values()) pipeline.switchyardSettle(...scriptInput(entry))
    return pipeline
  }

  /** The script's keys and arguments when the batch holds one settlement. */
  only(): (string | number)[] {
    const [entry] = this.#entries.values()
    return entry === undefined ? [] : scriptInput(entry)
  }

  /** The pipeline's replies to this batch's scripts, in order. */
  report(results: readonly [Error | null, unknown][]): void {
    const failure = results.find(([error]) => error !== null)
    if (failure === undefined) this.#resolve()
    else this.#reject(failure[0])
  }

  fail(error: unknown): void {
    this.#reject(error)
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

function parseAdmitReply(reply: unknown): AdmitResult {
  const fields = typeof reply === 'string' ? reply.split(' ') : []
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
