/**
 * The one small interface the store's queries run on. Each engine (SQLite, PostgreSQL) supplies a
 * driver; the SQL above it is written once, in the subset both engines share, with `?`
 * placeholders. Rows come back as plain records and are narrowed by the repositories.
 */
export type Engine = 'sqlite' | 'postgres'

export type SqlValue = string | number | null

export type SqlRow = Record<string, unknown>

export interface SqlExecutor {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>
}

export interface SqlDriver extends SqlExecutor {
  readonly engine: Engine
  /**
   * Runs `work` in one transaction. `exclusive` also serialises it against every other process
   * on the same database (migrations when replicas start together).
   */
  transaction<T>(
    work: (executor: SqlExecutor) => Promise<T>,
    options?: { exclusive?: boolean },
  ): Promise<T>
  /**
   * Inserts rows given as one flat list of values, `columns.length` to a row, all or none, in
   * the statements this engine runs best.
   */
  insertRows(table: string, columns: readonly string[], values: readonly SqlValue[]): Promise<void>
  close(): Promise<void>
}

/** `INSERT INTO table (columns) VALUES (?, …), …` for `rows` rows. */
export function insertSql(table: string, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => '?').join(', ')})`
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}`
}

/** Reads an integer or float column: PostgreSQL returns BIGINT and SUM() results as strings. */
export function numberColumn(row: SqlRow, column: string): number {
  const value = row[column]
  if (typeof value === 'number') return value
  if (typeof value === 'string' || typeof value === 'bigint') return Number(value)
  return 0
}

export function optionalNumberColumn(row: SqlRow, column: string): number | undefined {
  const value = row[column]
  return value === null || value === undefined ? undefined : numberColumn(row, column)
}

export function textColumn(row: SqlRow, column: string): string | undefined {
  const value = row[column]
  return typeof value === 'string' ? value : undefined
}
