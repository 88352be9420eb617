/**
 * Where cached answers live: in memory (a least-recently-used map bounded in bytes, per process)
 * or, when the config has `redis`, in Redis, shared by every replica. Both load their library on
 * first use, so a gateway whose routes cache nothing pays nothing for them. A cache that fails
 * never fails a request: a lookup that errs or times out is a miss, a write that errs is dropped.
 */
import { createRequire } from 'node:module'

export interface ResponseCache {
  get(key: string): Promise<string | undefined>
  set(key: string, value: string, ttlMs: number): void
  close(): Promise<void>
}

export interface ResponseCacheOptions {
  maxBytes: number
  redis: { url: string; prefix: string; timeoutMs: number } | undefined
  /** Told about the first failure of an outage, then at most once a minute. */
  onError(error: Error): void
}

const require = createRequire(import.meta.url)

/** The cache, created when the first request that caches asks for it. */
export function lazyResponseCache(options: ResponseCacheOptions): {
  cache(): ResponseCache
  close(): Promise<void>
} {
  let cache: ResponseCache | undefined
  return {
    cache() {
      cache ??= options.redis
        ? redisCache(options.redis, throttled(options.onError))
        : memoryCache(options.maxBytes)
      return cache
    },
    close: async () => cache?.close(),
  }
}

function memoryCache(maxBytes: number): ResponseCache {
  const { LRUCache } = require('lru-cache') as typeof import('lru-cache')
  const entries = new LRUCache<string, string>({
    maxSize: maxBytes,
    sizeCalculation: (value, key) => value.length + key.length,
    // Per-entry ages come with each `set`; an expired entry is dropped when it is next read.
    ttl: 0,
    allowStale: false,
  })
  return {
    async get(key) {
      return entries.get(key)
    },
    set(key, value, ttlMs) {
      entries.set(key, value, { ttl: ttlMs })
    },
    async close() {
      entries.clear()
    },
  }
}

function redisCache(
  options: { url: string; prefix: string; timeoutMs: number },
  onError: (error: Error) => void,
): ResponseCache {
  const { Redis } = require('ioredis') as typeof import('ioredis')
  const redis = new Redis(options.url, {
    commandTimeout: options.timeoutMs,
    maxRetriesPerRequest: 1,
  })
  redis.on('error', onError)
  return {
    async get(key) {
      try {
        return (await redis.get(options.prefix + key)) ?? undefined
      } catch (error) {
        onError(error as Error)
        return undefined
      }
    },
    set(key, value, ttlMs) {
      redis.set(options.prefix + key, value, 'PX', ttlMs).catch(onError)
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}

function throttled(report: (error: Error) => void): (error: Error) => void {
  let last = Number.NEGATIVE_INFINITY
  return (error) => {
    const now = Date.now()
    if (now - last < 60_000) return
    last = now
    report(error)
  }
}
