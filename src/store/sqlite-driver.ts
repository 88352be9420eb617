/**
 * SQLite through Node's built-in `node:sqlite`: no native addon to build. WAL mode lets the CLI
 * and readers work while the server writes. Calls are synchronous underneath, so a
 * promise-chained lock keeps a transaction's statements together even when its callback awaits.
 *
 * A second writer (another `--workers` process, the CLI) waits for the write lock on a timer,
 * not in SQLite's busy handler: that handler sleeps inside the call, which would stop the event
 * loop, and every request on it, for 1-100 ms at a time. Only opening the file (setting WAL mode)
 * waits in SQLite, once, at start-up. Batch inserts (the usage log) run on a writer thread with a
 * connection of its own (sqlite-writer.ts), where a commit's checkpoint and its disk syncs, and
 * any wait for the lock, hold that thread instead of the event loop.
 */

import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { setTimeout as sleep } from 'node:timers/promises'
import { mkdirSync } from '../core/builtins.ts'
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql-driver.ts'
import { type InsertStatements, insertChunked } from './sqlite-insert.ts'
import { openWriterThread } from './sqlite-writer-thread.ts'

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
  // A file's batch inserts run on a thread of their own (sqlite-writer.ts); an in-memory
  // database exists only on this connection.
  const writer = file === ':memory:' ? undefined : openWriterThread({ file, lockWaitMs: waitMs })
  const inserts: InsertStatements = new Map()

  return {
    engine: 'sqlite',
    all: executor.all,
    run: executor.run,
    transaction,
    insertRows(table, columns, values) {
      if (writer !== undefined) return writer.insertRows(table, columns, values)
      return transaction(async () => insertChunked(database, inserts, table, columns, values))
    },
    async close() {
      await writer?.close()
      await queue
      database.close()
    },
  }
}
