/**
 * SQLite through Node's built-in `node:sqlite`: no native addon to build. WAL mode lets the CLI
 * and readers work while the server writes. Calls are synchronous underneath, so a
 * promise-chained lock keeps a transaction's statements together even when its callback awaits.
 *
 * A second writer (another `--workers` process, the CLI) waits for the write lock on a timer,
 * not in SQLite's busy handler: that handler sleeps inside the call, which would stop the event
 * loop, and every request on it, for 1-100 ms at a time. Only opening the file (setting WAL mode)
 * waits in SQLite, once, at start-up.
 */

import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { setTimeout as sleep } from 'node:timers/promises'
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

/** How long a statement waits for another connection's write lock before it fails. */
export const lockWaitMs = 5_000
/** SQLite's result code for a database another connection has locked. */
const sqliteBusy = 5

function isBusy(error: unknown): boolean {
  return error instanceof Error && (error as Error & { errcode?: unknown }).errcode === sqliteBusy
}

/**
 * Runs `work`; while another connection holds the lock, tries again after 1, 2, 4 … 32 ms (a
 * batch holds it about a millisecond), giving up with SQLite's own error after `waitMs`.
 */
async function whenUnlocked<T>(work: () => T, waitMs: number): Promise<T> {
  const deadline = performance.now() + waitMs
  for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, 32)) {
    try {
      return work()
    } catch (error) {
      if (!isBusy(error) || performance.now() + delayMs > deadline) throw error
    }
    await sleep(delayMs)
  }
}

export interface SqliteOptions {
  /** How long a statement waits for another connection's write lock; `lockWaitMs` by default. */
  lockWaitMs?: number
}

export function openSqliteDriver(file: string, options: SqliteOptions = {}): SqlDriver {
  const waitMs = options.lockWaitMs ?? lockWaitMs
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const database = new DatabaseSync(file, { timeout: lockWaitMs })
  // Switching a new file to WAL takes an exclusive lock: that one wait happens in SQLite.
  database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 0')
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
    all(sql, params = []) {
      return whenUnlocked(() => prepare(sql).all(...(params as SqlValue[])) as SqlRow[], waitMs)
    },
    run(sql, params = []) {
      return whenUnlocked(() => Number(prepare(sql).run(...(params as SqlValue[])).changes), waitMs)
    },
  }
  let queue: Promise<unknown> = Promise.resolve()
  const transaction: SqlDriver['transaction'] = (work) => {
    const result = queue.then(async () => {
      // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading.
      await whenUnlocked(() => database.exec('BEGIN IMMEDIATE'), waitMs)
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
