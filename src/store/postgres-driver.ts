/**
 * PostgreSQL through `pg` (loaded only when a postgres URL is configured). A small pool; the
 * shared SQL's `?` placeholders become `$1, $2, …`. An exclusive transaction takes a
 * transaction-scoped advisory lock, so replicas starting together migrate one after the other.
 */
import type { Pool, PoolClient } from 'pg'
import {
  insertSql,
  type SqlDriver,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from './sql-driver.ts'

/** Any constant shared by every Switchyard process: "switchyard" in ASCII, as a bigint. */
const migrationLockId = '8319395793566789475'

export async function openPostgresDriver(url: string, onIdleError: (error: Error) => void) {
  const { default: pg } = await import('pg')
  const pool: Pool = new pg.Pool({ connectionString: url, max: 5, idleTimeoutMillis: 30_000 })
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', onIdleError)
  // Fail at start-up, with the server's own message, rather than on the first request.
  const probe = await pool.connect()
  probe.release()

  const executorOf = (client: Pool | PoolClient): SqlExecutor => ({
    async all(sql, params = []) {
      return (await client.query(positional(sql), params as SqlValue[])).rows as SqlRow[]
    },
    async run(sql, params = []) {
      return (await client.query(positional(sql), params as SqlValue[])).rowCount ?? 0
    },
  })
  const pooled = executorOf(pool)

  const driver: SqlDriver = {
    engine: 'postgres',
    all: pooled.all,
    run: pooled.run,
    async transaction(work, options = {}) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        if (options.exclusive)
          await client.query(`SELECT pg_advisory_xact_lock(${migrationLockId})`)
        const value = await work(executorOf(client))
        await client.query('COMMIT')
        return value
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    },
    async insertRows(table, columns, values) {
      // One round trip: the server parses the statement, whatever its size.
      await pooled.run(insertSql(table, columns, values.length / columns.length), values)
    },
    async close() {
      await pool.end()
    },
  }
  return driver
}

const converted = new Map<string, string>()

/** `?` to `$n`. Our SQL has no `?` inside string literals, so a plain scan is exact. */
function positional(sql: string): string {
  let text = converted.get(sql)
  if (text === undefined) {
    let index = 0
    text = sql.replace(/\?/g, () => `$${++index}`)
    // Multi-row inserts are long and vary in size: only the short, repeating statements are kept.
    if (converted.size < 200 && sql.length <= 2048) converted.set(sql, text)
  }
  return text
}
