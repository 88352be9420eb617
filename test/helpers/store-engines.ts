/**
 * The store engines a test runs against, table-driven: SQLite in a fresh temp file, and
 * PostgreSQL (127.0.0.1:5432, database `test`, trust auth) in a fresh schema per test run, so
 * runs never collide. PostgreSQL unreachable: the suite is skipped locally, and FAILS when
 * `CI=true`. `SWITCHYARD_TEST_POSTGRES_URL` points elsewhere.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

export interface EngineUnderTest {
  name: 'sqlite' | 'postgres'
  /** Set when the engine cannot be used here (not in CI); the suite is skipped with it. */
  skip: string | undefined
  /** A fresh, empty store URL. */
  create(): Promise<string>
  /** Drops what `create` made. */
  cleanup(): Promise<void>
}

const candidates = process.env.SWITCHYARD_TEST_POSTGRES_URL
  ? [process.env.SWITCHYARD_TEST_POSTGRES_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test']

async function reachablePostgres(): Promise<{ url: string } | { problem: string }> {
  let problem = ''
  for (const url of candidates) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return { url }
    } catch (error) {
      problem = (error as Error).message
    } finally {
      await client.end().catch(() => {})
    }
  }
  return { problem }
}

const postgres = await reachablePostgres()
if ('problem' in postgres && process.env.CI === 'true') {
  throw new Error(`PostgreSQL is required in CI and unreachable: ${postgres.problem}`)
}

function sqliteEngine(): EngineUnderTest {
  return {
    name: 'sqlite',
    skip: undefined,
    async create() {
      return `sqlite:${join(mkdtempSync(join(tmpdir(), 'switchyard-store-')), 'switchyard.db')}`
    },
    async cleanup() {},
  }
}

function postgresEngine(): EngineUnderTest {
  const schemas: string[] = []
  return {
    name: 'postgres',
    skip: 'problem' in postgres ? `PostgreSQL unreachable: ${postgres.problem}` : undefined,
    async create() {
      if (!('url' in postgres)) throw new Error('PostgreSQL unreachable')
      const schema = `switchyard_test_${process.pid}_${randomBytes(4).toString('hex')}`
      const client = new pg.Client({ connectionString: postgres.url })
      await client.connect()
      await client.query(`CREATE SCHEMA ${schema}`)
      await client.end()
      schemas.push(schema)
      const separator = postgres.url.includes('?') ? '&' : '?'
      return `${postgres.url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`
    },
    async cleanup() {
      if (!('url' in postgres) || schemas.length === 0) return
      const client = new pg.Client({ connectionString: postgres.url })
      await client.connect()
      for (const schema of schemas.splice(0)) {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      }
      await client.end()
    },
  }
}

/** A fresh pair per test file: SQLite, then PostgreSQL. */
export function storeEngines(): EngineUnderTest[] {
  return [sqliteEngine(), postgresEngine()]
}
