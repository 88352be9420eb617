import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import type { SqlDriver } from '../src/store/sql-driver.ts'
import { openSqliteDriver } from '../src/store/sqlite-driver.ts'

/**
 * A SQLite file's batch inserts run on the writer thread: the commit, the checkpoint that copies
 * the write-ahead log into the database and the disk syncs that come with it never hold the
 * event loop.
 */
describe('SQLite: the writer thread', () => {
  let dir: string
  let file: string
  let driver: SqlDriver

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-sqlite-writer-'))
    file = join(dir, 'store.db')
    driver = openSqliteDriver(file)
    await driver.run('CREATE TABLE t (a INTEGER NOT NULL, b TEXT NOT NULL, c REAL)')
    await driver.run('CREATE INDEX t_b ON t (b, a)')
    await driver.run('CREATE TABLE warm (a INTEGER)')
  })

  after(async () => {
    await driver.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function rows(count: number, from = 0): (string | number)[] {
    const values: (string | number)[] = []
    for (let row = from; row < from + count; row++) values.push(row, `row ${row}`, row / 7)
    return values
  }

  test('a large batch is written off the event loop’s thread', async () => {
    // The same batch on a connection of this thread, for comparison.
    const sameThread = openSqliteDriver(':memory:')
    await sameThread.run('CREATE TABLE t (a INTEGER NOT NULL, b TEXT NOT NULL, c REAL)')
    await sameThread.run('CREATE INDEX t_b ON t (b, a)')
    const batch = rows(100_000)
    const onThisThread = await threadCpuMs(() => sameThread.insertRows('t', ['a', 'b', 'c'], batch))
    await sameThread.close()

    // CPU time of this thread only: what the machine does meanwhile does not count. The thread
    // is started first, so its start-up is not counted either.
    await driver.insertRows('warm', ['a'], [1])
    const handedOver = await threadCpuMs(() => driver.insertRows('t', ['a', 'b', 'c'], batch))
    assert.ok(
      handedOver < onThisThread / 3,
      `this thread spent ${handedOver.toFixed(1)} ms handing the batch over, against ${onThisThread.toFixed(1)} ms writing it itself`,
    )
    const [count] = await driver.all('SELECT COUNT(*) AS n, MAX(a) AS last FROM t')
    assert.deepEqual(
      { n: Number(count?.n), last: Number(count?.last) },
      { n: 100_000, last: 99_999 },
    )
  })

  test('a batch the database refuses rejects with its error, all or nothing; the next one lands', async () => {
    await assert.rejects(driver.insertRows('missing', ['a'], [1]), /no such table: missing/)
    // Three rows go out as a 2-row and a 1-row statement; the third breaks NOT NULL, so the
    // first statement's rows must be rolled back with it.
    await assert.rejects(
      driver.insertRows('t', ['a', 'b', 'c'], [-1, 'kept?', 0, -2, 'kept?', 0, -3, null, 0]),
      /NOT NULL constraint failed/,
    )
    await driver.insertRows('t', ['a', 'b', 'c'], rows(3, 100_000))
    const found = await driver.all('SELECT a FROM t WHERE a < 0 OR a >= 100000 ORDER BY a')
    assert.deepEqual(
      found.map((row) => Number(row.a)),
      [100_000, 100_001, 100_002],
    )
  })

  test('close waits for the batches already sent', async () => {
    const closing = openSqliteDriver(file)
    const sent = [
      closing.insertRows('t', ['a', 'b', 'c'], rows(500, 200_000)),
      closing.insertRows('t', ['a', 'b', 'c'], rows(500, 200_500)),
    ]
    await closing.close()
    await Promise.all(sent)
    const reader = new DatabaseSync(file, { readOnly: true })
    const row = reader.prepare('SELECT COUNT(*) AS n FROM t WHERE a >= 200000').get()
    reader.close()
    assert.equal(Number(row?.n), 1_000)
  })

  test('an idle writer thread does not keep the process alive', () => {
    const driverUrl = pathToFileURL(join(import.meta.dirname, '../src/store/sqlite-driver.ts')).href
    const script = `
      import { openSqliteDriver } from ${JSON.stringify(driverUrl)}
      const driver = openSqliteDriver(${JSON.stringify(join(dir, 'exit.db'))})
      await driver.run('CREATE TABLE t (a INTEGER)')
      await driver.insertRows('t', ['a'], [1, 2, 3])
      console.log('written')`
    const scriptFile = join(dir, 'exit.mjs')
    writeFileSync(scriptFile, script)
    // Without the runner's marker, the child is a plain process, not a test file.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env
    const child = spawnSync(process.execPath, [scriptFile], {
      encoding: 'utf8',
      env,
      timeout: 20_000,
    })
    assert.equal(child.error, undefined, 'the process exited on its own')
    assert.equal(child.status, 0, child.stderr)
    assert.equal(child.stdout.trim(), 'written')
  })
})

/** CPU milliseconds this thread spends while `work` runs (other threads not counted). */
async function threadCpuMs(work: () => Promise<void>): Promise<number> {
  const before = process.threadCpuUsage()
  await work()
  const { user, system } = process.threadCpuUsage(before)
  return (user + system) / 1000
}
