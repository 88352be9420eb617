/**
 * SQLite through Node's built-in `node:sqlite`: no native addon to build. WAL mode lets the CLI
 * and readers work while the server writes; `busy_timeout` makes a second writer wait instead of
 * failing. Calls are synchronous underneath, so a promise-chained lock keeps a transaction's
 * statements together even when its callback awaits.
 */

import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { mkdirSync } from '../core/builtins.ts'
import { childMap } from '../core/child-map.ts'
import {
  insertSql,
  type SqlDriver,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from './sql-driver.ts'

/**
 * The row counts a multi-row insert is cut into. SQLite compiles every distinct statement text,
 * and a 200-row insert took about 4M instructions to prepare: the usage log's batches vary in
 * size (a timer writes what has queued), so one statement per batch size would prepare almost
 * every batch anew, and cache a large statement per size. Powers of two cover any count in a few
 * statements, each prepared once.
 */
const chunkRows = [128, 64, 32, 16, 8, 4, 2, 1]

export function openSqliteDriver(file: string): SqlDriver {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const database = new DatabaseSync(file, { timeout: 5_000 })
  database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL')
  const statements = new Map<string, StatementSync>()
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = database.prepare(sql)
      // Statements built from a query's options repeat; a bound keeps an odd caller from growing it.
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
  const transaction: SqlDriver['transaction'] = (work) => {
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
  }
  /** Prepared inserts by table and columns, then by row count (one of `chunkRows`). */
  const inserts = new Map<string, Map<number, StatementSync>>()
  const insertStatement = (table: string, columns: readonly string[], rows: number) => {
    const bySize = childMap(inserts, `${table} ${columns.join(',')}`)
    let statement = bySize.get(rows)
    if (statement === undefined) {
      statement = database.prepare(insertSql(table, columns, rows))
      bySize.set(rows, statement)
    }
    return statement
  }

  return {
    engine: 'sqlite',
    all: executor.all,
    run: executor.run,
    transaction,
    insertRows(table, columns, values) {
      const rowCount = values.length / columns.length
      return transaction(async () => {
        let row = 0
        for (const size of chunkRows) {
          if (rowCount - row < size) continue
          const statement = insertStatement(table, columns, size)
          while (rowCount - row >= size) {
            const from = row * columns.length
            statement.run(...values.slice(from, from + size * columns.length))
            row += size
          }
        }
      })
    },
    async close() {
      await queue
      database.close()
    },
  }
}
