/**
 * Multi-row inserts on one SQLite connection, shared by the driver (in-memory databases) and the
 * writer thread (files). SQLite compiles every distinct statement text, and a 200-row insert took
 * about 4M instructions to prepare: the usage log's batches vary in size (a timer writes what has
 * queued), so one statement per batch size would prepare almost every batch anew, and cache a
 * large statement per size. Powers of two cover any count in a few statements, each prepared once.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { childMap } from '../core/child-map.ts'
import { insertSql, type SqlValue } from './sql-driver.ts'

const chunkRows = [128, 64, 32, 16, 8, 4, 2, 1]

/** A connection's prepared inserts, by table and columns, then by row count. */
export type InsertStatements = Map<string, Map<number, StatementSync>>

/** Inserts `values` (`columns.length` to a row) in the caller's transaction. */
export function insertChunked(
  database: DatabaseSync,
  statements: InsertStatements,
  table: string,
  columns: readonly string[],
  values: readonly SqlValue[],
): void {
  const rowCount = values.length / columns.length
  const bySize = childMap(statements, `${table} ${columns.join(',')}`)
  let row = 0
  for (const size of chunkRows) {
    if (rowCount - row < size) continue
    let statement = bySize.get(size)
    if (statement === undefined) {
      statement = database.prepare(insertSql(table, columns, size))
      bySize.set(size, statement)
    }
    while (rowCount - row >= size) {
      const from = row * columns.length
      statement.run(...values.slice(from, from + size * columns.length))
      row += size
    }
  }
}
