/**
 * Real Redis for tests (127.0.0.1:6379). Suites skip when it is missing on a developer machine
 * but fail when `CI=true`, so CI can never pass by skipping them. Each suite namespaces its keys
 * under a fresh prefix and deletes them at the end.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** `false` when Redis answers; a skip reason otherwise (throws instead under CI). */
export async function redisSkipReason(): Promise<string | false> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
    return false
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(`Redis at ${redisUrl} is required when CI=true: ${String(error)}`)
    }
    return `Redis at ${redisUrl} is not reachable`
  } finally {
    redis.disconnect()
  }
}

export function testPrefix(): string {
  return `switchyard-test:${randomUUID()}:`
}

export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl)
  try {
    let cursor = '0'
    for (let round = 0; round < 1000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
      if (cursor === '0') break
    }
  } finally {
    redis.disconnect()
  }
}
