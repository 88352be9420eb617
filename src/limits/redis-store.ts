/**
 * Counters in Redis, shared by every replica. One round trip per admission and one per
 * settlement, each a Lua script (redis-scripts.ts). Keys carry the client key's id as a hash tag
 * (`{config:alice}`) so a key's counters share a Redis Cluster slot, as multi-key scripts need.
 * Commands time out after `timeoutMs`; the limiter decides what a failure means (fail open or
 * closed).
 */

import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import { createHash } from '../core/builtins.ts'
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
  const admit = script(redis, admitScript)
  const settle = script(redis, settleScript)

  function counters(keyId: string): KeyCounters {
    const base = `${options.prefix}{${keyId}}:`
    const requestsKey = `${base}rpm`
    const tokensKey = `${base}tpm`
    const spendKey = (period: BudgetPeriod | undefined) => `${base}spend:${period?.label ?? 'none'}`
    return {
      async admit(input) {
        const reply = await admit(
          [requestsKey, tokensKey, spendKey(input.budget?.period)],
          [
            input.now,
            windowMs,
            input.rpm ?? 0,
            input.tpm ?? 0,
            input.tokens,
            input.budget?.maxSpend ?? -1,
          ],
        )
        return parseAdmitReply(reply)
      },
      async settle(input) {
        await settle(
          [tokensKey, spendKey(input.period)],
          [
            input.now,
            windowMs,
            input.tpm ?? 0,
            input.tokenDelta,
            input.period === undefined ? 0 : input.cost,
            spendTimeToLive(input.period, input.now),
          ],
        )
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
      if (redis.status === 'ready') {
        await redis.quit().catch(() => redis.disconnect())
      } else {
        redis.disconnect()
      }
    },
  }
}

function spendTimeToLive(period: BudgetPeriod | undefined, now: number): number {
  return Math.max(1000, Math.ceil((period?.end ?? now) + spendGraceMs - now))
}

/**
 * EVAL the first time (which also loads the script), EVALSHA after, EVAL again on NOSCRIPT (a
 * restarted Redis). Sending EVAL first keeps commands in the order they were issued, so a
 * settlement is never overtaken by the next admission.
 */
function script(redis: Redis, source: string) {
  const sha = createHash('sha1').update(source).digest('hex')
  let loaded = false
  return async (keys: string[], args: (string | number)[]): Promise<unknown> => {
    if (loaded) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args)
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      }
    }
    const reply = await redis.eval(source, keys.length, ...keys, ...args)
    loaded = true
    return reply
  }
}

const verdicts = new Set<string>(['admitted', 'rpm', 'tpm', 'budget'])

function parseAdmitReply(reply: unknown): AdmitResult {
  if (!Array.isArray(reply) || reply.length !== 6 || !verdicts.has(String(reply[0]))) {
    throw new Error('Unexpected reply from the limiter script')
  }
  const number = (index: number) => {
    const value = Number(reply[index])
    if (!Number.isFinite(value)) throw new Error('Unexpected number from the limiter script')
    return value
  }
  return {
    verdict: reply[0] as AdmitResult['verdict'],
    requests: { before: number(1), after: number(2) },
    tokens: { before: number(3), after: number(4) },
    spend: number(5),
  }
}
