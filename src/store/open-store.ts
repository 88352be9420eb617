/**
 * Opens the store named by `store.url` (SQLite by default, or PostgreSQL), applies pending
 * migrations, and builds what the gateway uses from it: the key repository, the cached key
 * lookup for authentication, the usage repository and the batching usage log.
 */
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { KeyLookup } from '../auth/keys.ts'
import type { Config } from '../config/schema.ts'
import { createKeyRepository, type KeyRepository } from './key-repository.ts'
import { migrate } from './migrations.ts'
import { openPostgresDriver } from './postgres-driver.ts'
import type { Engine, SqlDriver } from './sql-driver.ts'
import { openSqliteDriver } from './sqlite-driver.ts'
import { createStoredKeyLookup } from './stored-key-lookup.ts'
import { createUsageLog, type UsageLog } from './usage-log.ts'
import { createUsageRepository, type UsageRepository } from './usage-repository.ts'

export interface Store {
  engine: Engine
  /** Where it is, without credentials, for logs. */
  location: string
  keys: KeyRepository
  /** Stored keys for authentication, cached for at most half a second. */
  keyLookup: KeyLookup
  usage: UsageRepository
  /** The recorder that writes the usage log. */
  usageLog: UsageLog
  /** Writes what the usage log still holds, then closes the connection(s). */
  close(): Promise<void>
}

export interface OpenStoreOptions {
  logger?: Logger | undefined
  usageLog?: Config['store']['usage_log'] | undefined
  now?: () => number
}

/** The configured URL, else a SQLite file in the data directory (`./data/switchyard.db`). */
export function storeUrl(config: Config): string {
  return config.store.url ?? `sqlite:${join(config.server.data_dir, 'switchyard.db')}`
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const { logger } = options
  const { driver, location } = await openDriver(url, logger)
  try {
    const migration = await migrate(driver, options.now)
    if (migration.applied.length > 0) {
      logger?.info({ store: location, applied: migration.applied }, 'store migrated')
    }
  } catch (error) {
    await driver.close().catch(() => {})
    throw error
  }
  const keys = createKeyRepository(driver, options.now === undefined ? {} : { now: options.now })
  const usage = createUsageRepository(driver)
  const usageLog = createUsageLog((records) => usage.insert(records), {
    batchSize: options.usageLog?.batch_size,
    flushIntervalMs: options.usageLog?.flush_interval_ms,
    queueLimit: options.usageLog?.queue_limit,
    logger,
  })
  let closing: Promise<void> | undefined
  return {
    engine: driver.engine,
    location,
    keys,
    keyLookup: createStoredKeyLookup(keys, {
      onError: (error) => logger?.error({ err: error }, 'key store lookup failed'),
    }),
    usage,
    usageLog,
    close() {
      closing ??= usageLog.close().then(() => driver.close())
      return closing
    },
  }
}

async function openDriver(
  url: string,
  logger: Logger | undefined,
): Promise<{ driver: SqlDriver; location: string }> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (file.length === 0)
      throw new Error('store.url sqlite: needs a file path, e.g. sqlite:./data/switchyard.db')
    return { driver: openSqliteDriver(file), location: `sqlite:${file}` }
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url)
    const location = `postgres://${parsed.host}${parsed.pathname}`
    const driver = await openPostgresDriver(url, (error) =>
      logger?.warn({ err: error, store: location }, 'idle PostgreSQL connection failed'),
    )
    return { driver, location }
  }
  throw new Error('store.url must start with sqlite: or postgres://')
}
