import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, test } from 'node:test'
import type { SqlDriver } from '../src/store/sql-driver.ts'
import { openSqliteDriver } from '../src/store/sqlite-driver.ts'

/**
 * Another connection holding SQLite's write lock, as a second `--workers` process or the CLI does
 * while it writes. The waiting driver must keep its event loop running: the lock is released here
 * by a timer on that same loop, so a driver that waited inside SQLite would never see it released.
 * Batch inserts wait on the writer thread, inside SQLite, which stops only that thread.
 */
describe('SQLite: waiting for another writer', () => {
  let dir: string
  let file: string
  let driver: SqlDriver
  let holder: DatabaseSync

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-sqlite-lock-'))
    file = join(dir, 'store.db')
    driver = openSqliteDriver(file, { lockWaitMs: 2_000 })
    await driver.run('CREATE TABLE t (x INTEGER NOT NULL)')
    holder = new DatabaseSync(file, { timeout: 0 })
  })

  after(async () => {
    holder.close()
    await driver.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Counts the event loop's turns while `work` runs. */
  async function countTurns<T>(work: Promise<T>): Promise<{ value: T; turns: number }> {
    let turns = 0
    const ticker = setInterval(() => turns++, 5)
    try {
      return { value: await work, turns }
    } finally {
      clearInterval(ticker)
    }
  }

  test('a transaction and a batch wait for the lock, the loop turning meanwhile; both land whole', async () => {
    holder.exec('BEGIN IMMEDIATE')
    holder.exec('INSERT INTO t (x) VALUES (0)')
    const releasedAt = performance.now() + 150
    setTimeout(() => holder.exec('COMMIT'), 150)
    // The transaction waits on this connection, on a timer; the batch on the writer thread's.
    const { turns } = await countTurns(
      Promise.all([
        driver.transaction(async (executor) => {
          await executor.run('INSERT INTO t (x) VALUES (?)', [1])
          await executor.run('INSERT INTO t (x) VALUES (?)', [2])
        }),
        driver.insertRows('t', ['x'], [3, 4, 5]),
      ]),
    )
    assert.ok(performance.now() >= releasedAt - 1, 'both waited for the other writer')
    assert.ok(turns >= 10, `the event loop turned ${turns} times while they waited`)
    const rows = await driver.all('SELECT x FROM t ORDER BY x')
    assert.deepEqual(
      rows.map((row) => Number(row.x)),
      [0, 1, 2, 3, 4, 5],
    )
  })

  test('a single write outside a transaction waits the same way', async () => {
    holder.exec('BEGIN IMMEDIATE')
    setTimeout(() => holder.exec('COMMIT'), 100)
    const { value, turns } = await countTurns(driver.run('DELETE FROM t WHERE x = 0'))
    assert.equal(value, 1)
    assert.ok(turns >= 5, `the event loop turned ${turns} times while the write waited`)
  })

  test('a lock held past the wait fails with SQLite’s error; the loop ran meanwhile; nothing is written', async () => {
    const impatient = openSqliteDriver(file, { lockWaitMs: 200 })
    holder.exec('BEGIN IMMEDIATE')
    try {
      const startedAt = performance.now()
      const { turns } = await countTurns(
        assert.rejects(impatient.insertRows('t', ['x'], [9]), /database is locked/),
      )
      const waited = performance.now() - startedAt
      assert.ok(waited >= 150 && waited < 1_500, `gave up after ${Math.round(waited)} ms`)
      assert.ok(turns >= 10, `the event loop turned ${turns} times while the batch waited`)
    } finally {
      holder.exec('COMMIT')
      await impatient.close()
    }
    const rows = await driver.all('SELECT x FROM t WHERE x = 9')
    assert.equal(rows.length, 0)
  })
})
