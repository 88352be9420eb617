/**
 * Run as a child process: opens the store at argv[2], waits until the epoch-millisecond time in
 * argv[3] (so two replicas really migrate at the same moment), migrates, and prints what it
 * applied, as JSON.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { migrate } from '../../src/store/migrations.ts'
import { openPostgresDriver } from '../../src/store/postgres-driver.ts'
import { openSqliteDriver } from '../../src/store/sqlite-driver.ts'

const url = process.argv[2] ?? ''
const driver = url.startsWith('sqlite:')
  ? openSqliteDriver(url.slice('sqlite:'.length))
  : await openPostgresDriver(url, () => {})
try {
  await sleep(Math.max(0, Number(process.argv[3] ?? 0) - Date.now()))
  process.stdout.write(JSON.stringify(await migrate(driver)))
} finally {
  await driver.close()
}
