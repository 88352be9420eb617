/**
 * The schema, as numbered migrations applied in order at start-up. Each runs at most once: the
 * applied versions are kept in `schema_migrations`, and the whole run is one exclusive
 * transaction, so two replicas starting together cannot both apply one. Migrations only add
 * (tables, columns, indexes): a replica still on the previous release keeps working during a
 * rolling upgrade.
 */
import type { Engine, SqlDriver } from './sql-driver.ts'

/** The few column types the engines spell differently; everything else is shared SQL. */
interface ColumnTypes {
  serial: string
  bigint: string
  real: string
}

const columnTypes: Record<Engine, ColumnTypes> = {
  sqlite: { serial: 'INTEGER PRIMARY KEY AUTOINCREMENT', bigint: 'INTEGER', real: 'REAL' },
  postgres: {
    serial: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    bigint: 'BIGINT',
    real: 'DOUBLE PRECISION',
  },
}

interface Migration {
  version: number
  name: string
  statements(types: ColumnTypes): string[]
}

// Times are epoch milliseconds; `day` is the UTC date, stored so grouping by day is one portable
// GROUP BY. Booleans are 0/1 integers and JSON is text, the same in both engines.
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'api keys and usage log',
    statements: (types) => [
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        secret_prefix TEXT NOT NULL,
        models TEXT NOT NULL,
        limits TEXT,
        budget TEXT,
        labels TEXT,
        expires_at ${types.bigint},
        created_at ${types.bigint} NOT NULL,
        updated_at ${types.bigint} NOT NULL,
        revoked_at ${types.bigint}
      )`,
      'CREATE INDEX api_keys_created ON api_keys (created_at, id)',
      `CREATE TABLE usage_log (
        id ${types.serial},
        started_at ${types.bigint} NOT NULL,
        day TEXT NOT NULL,
        request_id TEXT NOT NULL,
        key_id TEXT,
        key_name TEXT,
        model TEXT,
        model_id TEXT,
        provider TEXT,
        upstream_model TEXT,
        stream INTEGER NOT NULL,
        status INTEGER NOT NULL,
        error_type TEXT,
        error_code TEXT,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        usage_estimated INTEGER NOT NULL,
        cost ${types.real} NOT NULL,
        latency_ms ${types.real} NOT NULL,
        ttft_ms ${types.real},
        attempts INTEGER NOT NULL,
        cache_hit INTEGER NOT NULL,
        metadata TEXT
      )`,
      'CREATE INDEX usage_log_started ON usage_log (started_at, id)',
      'CREATE INDEX usage_log_key_started ON usage_log (key_id, started_at)',
    ],
  },
]

export interface MigrationResult {
  /** Versions this run applied (empty when the schema was current). */
  applied: number[]
  /** The highest version in the database afterwards. */
  current: number
}

export async function migrate(
  driver: SqlDriver,
  now: () => number = Date.now,
): Promise<MigrationResult> {
  return driver.transaction(
    async (executor) => {
      await executor.run(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at ${columnTypes[driver.engine].bigint} NOT NULL
        )`,
      )
      const rows = await executor.all('SELECT version FROM schema_migrations')
      const done = new Set(rows.map((row) => Number(row.version)))
      const applied: number[] = []
      for (const migration of migrations) {
        if (done.has(migration.version)) continue
        for (const statement of migration.statements(columnTypes[driver.engine])) {
          await executor.run(statement)
        }
        await executor.run(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
          [migration.version, migration.name, now()],
        )
        applied.push(migration.version)
        done.add(migration.version)
      }
      return { applied, current: Math.max(0, ...done) }
    },
    { exclusive: true },
  )
}
