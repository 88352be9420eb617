/**
 * SQLite through Node's built-in `node:sqlite`: no native addon to build. WAL mode lets the CLI
 * and readers work while the server writes; `busy_timeout` makes a second writer wait instead of
 * failing. Calls are synchronous underneath, so a promise-chained lock keeps a transaction's
 * statements together even when its callback awaits.
 */

import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { mkdirSync } from '../core/builtins.ts'
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql-driver.ts'

export function openSqliteDriver(file: string): SqlDriver {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const database = new DatabaseSync(file, { timeout: 5_000 })
  database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL')
  const statements = new Map<string, StatementSync>()
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = database.prepare(sql)
      // Multi-row inserts vary in length; keep the cache to the statements that repeat.
      if (statements.size < 200) statements.set(sql, statement)
    }
    return statement
  }
  const executor: SqlExecutor = {
    async all(sql, params = []) {
      return prepare(sql).all(...(params as SqlValue[])) as SqlRow[]
    },
    async run(sql, params = []) {
      return Number(prepare(sql).run(...(params as SqlValue[])).changes)
    },
  }
  let queue: Promise<unknown> = Promise.resolve()

  return {
    engine: 'sqlite',
    all: executor.all,
    run: executor.run,
    transaction(work) {
      const result = queue.then(async () => {
        // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading.
        database.exec('BEGIN IMMEDIATE')
        try {
          const value = await work(executor)
          database.exec('COMMIT')
          return value
        } catch (error) {
          database.exec('ROLLBACK')
          throw error
        }
      })
      queue = result.catch(() => {})
      return result
    },
    async close() {
      await queue
      database.close()
    },
  }
}
