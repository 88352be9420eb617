import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { hashSecret } from '../src/auth/keys.ts'
import { emptyRecord, type RequestRecord } from '../src/core/request-record.ts'
import { migrate, migrations } from '../src/store/migrations.ts'
import { openStore, type Store } from '../src/store/open-store.ts'
import { openPostgresDriver } from '../src/store/postgres-driver.ts'
import type { SqlDriver } from '../src/store/sql-driver.ts'
import { openSqliteDriver } from '../src/store/sqlite-driver.ts'
import { storeEngines } from './helpers/store-engines.ts'

const run = promisify(execFile)
const day = 86_400_000
const june1 = Date.parse('2025-06-01T00:00:00Z')

function record(overrides: Partial<RequestRecord>): RequestRecord {
  return {
    ...emptyRecord(overrides.requestId ?? 'req', overrides.startedAt ?? june1),
    status: 200,
    attempts: 1,
    ...overrides,
  }
}

const migrateScript = fileURLToPath(new URL('./helpers/migrate-store.ts', import.meta.url))

/** Migrates in a child process, as a replica starting up would. */
async function runMigration(url: string, startAt: number): Promise<{ applied: number[] }> {
  const { stdout } = await run(process.execPath, [migrateScript, url, String(startAt)], {
    timeout: 20_000,
  })
  return JSON.parse(stdout) as { applied: number[] }
}

async function openDriver(url: string): Promise<SqlDriver> {
  return url.startsWith('sqlite:')
    ? openSqliteDriver(url.slice('sqlite:'.length))
    : openPostgresDriver(url, () => {})
}

for (const engine of storeEngines()) {
  describe(`store repositories on ${engine.name}`, { skip: engine.skip }, () => {
    let url: string
    let store: Store
    let clock = june1

    before(async () => {
      url = await engine.create()
      store = await openStore(url, { now: () => clock })
    })
    after(async () => {
      await store?.close()
      await engine.cleanup()
    })

    test('migrations are recorded once; running them again applies nothing', async () => {
      const driver = await openDriver(url)
      try {
        const again = await migrate(driver)
        assert.deepEqual(again.applied, [])
        assert.equal(again.current, migrations.at(-1)!.version)
        const rows = await driver.all('SELECT version FROM schema_migrations ORDER BY version')
        assert.deepEqual(
          rows.map((row) => Number(row.version)),
          migrations.map((migration) => migration.version),
        )
      } finally {
        await driver.close()
      }
    })

    test('two replicas migrating a fresh database at once: one applies, the other waits and finds it done', async () => {
      const freshUrl = await engine.create()
      // An empty migrations table, as a previous release would leave it: without the lock, both
      // replicas would read "nothing applied" and both create the tables.
      const setup = await openDriver(freshUrl)
      await setup.run(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      )
      await setup.close()
      // Both children connect first, then start migrating at the same instant.
      const startAt = Date.now() + 2_000
      const results = await Promise.all([
        runMigration(freshUrl, startAt),
        runMigration(freshUrl, startAt),
      ])
      const applied = results.map((result) => result.applied.length).sort()
      assert.deepEqual(applied, [0, migrations.length])
      const driver = await openDriver(freshUrl)
      try {
        const [row] = await driver.all('SELECT COUNT(*) AS count FROM schema_migrations')
        assert.equal(Number(row!.count), migrations.length)
      } finally {
        await driver.close()
      }
    })

    test('a created key is stored as a digest and a prefix, never as its secret', async () => {
      const { key, secret } = await store.keys.create({
        name: 'search-team',
        models: ['albert-*'],
        limits: { rpm: 60, tpm: 100_000 },
        budget: { max_spend: 25, period: 'month' },
        expires_at: '2030-01-01T00:00:00Z',
        labels: { team: 'search' },
      })
      assert.match(secret, /^sy-[A-Za-z0-9_-]{43}$/)
      assert.match(key.id, /^key_[0-9a-f]{20}$/)
      assert.equal(key.prefix, secret.slice(0, 10))
      assert.deepEqual(key.models, ['albert-*'])
      assert.deepEqual(key.limits, { rpm: 60, tpm: 100_000 })
      assert.deepEqual(key.budget, { max_spend: 25, period: 'month' })
      assert.equal(key.expiresAt, Date.parse('2030-01-01T00:00:00Z'))
      assert.deepEqual(key.labels, { team: 'search' })
      assert.equal(key.createdAt, june1)

      const driver = await openDriver(url)
      try {
        const rows = await driver.all('SELECT * FROM api_keys WHERE id = ?', [key.id])
        const stored = JSON.stringify(rows)
        assert.ok(!stored.includes(secret), 'the secret itself is not in the row')
        assert.equal(rows[0]!.secret_hash, hashSecret(secret).toString('hex'))
      } finally {
        await driver.close()
      }
      const found = await store.keys.findActive(hashSecret(secret).toString('hex'))
      assert.equal(found?.id, key.id)
    })

    test('update changes only what is given; null clears; revoke hides the key from lookups', async () => {
      const { key, secret } = await store.keys.create({ name: 'temp', models: ['*'] })
      clock = june1 + 1_000
      const updated = await store.keys.update(key.id, {
        name: 'renamed',
        limits: { rpm: 5 },
        labels: { env: 'dev' },
      })
      assert.equal(updated?.name, 'renamed')
      assert.deepEqual(updated?.models, ['*'])
      assert.deepEqual(updated?.limits, { rpm: 5 })
      assert.equal(updated?.updatedAt, june1 + 1_000)
      const cleared = await store.keys.update(key.id, { limits: null, labels: null })
      assert.equal(cleared?.limits, undefined)
      assert.equal(cleared?.labels, undefined)
      assert.equal(cleared?.name, 'renamed')
      assert.equal(await store.keys.update('key_missing', { name: 'x' }), undefined)

      clock = june1 + 2_000
      const revoked = await store.keys.revoke(key.id)
      assert.equal(revoked?.revokedAt, june1 + 2_000)
      clock = june1 + 3_000
      assert.equal((await store.keys.revoke(key.id))?.revokedAt, june1 + 2_000, 'revoked once')
      assert.equal(await store.keys.findActive(hashSecret(secret).toString('hex')), undefined)
      assert.equal((await store.keys.get(key.id))?.name, 'renamed', 'still shown by id')
    })

    test('listing pages through keys oldest first; revoked keys only when asked', async () => {
      const all = await store.keys.list({ limit: 100, includeRevoked: true })
      const active = await store.keys.list({ limit: 100 })
      assert.equal(active.keys.length, all.keys.length - 1)
      for (let index = 0; index < 3; index++) {
        clock = june1 + 10_000 + index
        await store.keys.create({ name: `paged-${index}`, models: ['*'] })
      }
      const seen: string[] = []
      let page = await store.keys.list({ limit: 2 })
      seen.push(...page.keys.map((key) => key.name))
      let pages = 1
      while (page.next !== undefined && pages < 10) {
        page = await store.keys.list({ limit: 2, after: page.next })
        seen.push(...page.keys.map((key) => key.name))
        pages++
      }
      assert.deepEqual(seen, ['search-team', 'paged-0', 'paged-1', 'paged-2'])
      assert.equal(pages, 2)
    })

    const firstRecord = record({
      requestId: 'r1',
      startedAt: june1 + 1_000,
      keyId: 'key_a',
      keyName: 'alice',
      model: 'small',
      modelId: 'albert-small',
      provider: 'vllm',
      upstreamModel: 'meta-llama/Llama-3.1-8B-Instruct',
      promptTokens: 10,
      completionTokens: 20,
      cachedTokens: 4,
      cost: 0.5,
      latencyMs: 12.5,
      ttftMs: 3.25,
      stream: true,
      metadata: { user: 'u1' },
    })

    test('usage rows round-trip, and totals group by key, model, provider and day', async () => {
      await store.usage.insert([
        firstRecord,
        record({
          requestId: 'r2',
          startedAt: june1 + day + 5,
          keyId: 'key_a',
          keyName: 'alice',
          model: 'albert-small',
          modelId: 'albert-small',
          provider: 'vllm',
          promptTokens: 1,
          completionTokens: 2,
          cost: 0.25,
          usageEstimated: true,
        }),
        record({
          requestId: 'r3',
          startedAt: june1 + day + 10,
          keyId: 'key_b',
          keyName: 'bob',
          model: 'mock',
          modelId: 'mock-echo',
          provider: 'demo',
          status: 502,
          errorCode: 'upstream_error',
          errorType: 'upstream_error',
          promptTokens: 100,
        }),
      ])
      const byKey = await store.usage.summarize({ groupBy: 'key' })
      assert.deepEqual(
        byKey.map((row) => [row.group, row.keyName, row.requests, row.promptTokens, row.cost]),
        [
          ['key_a', 'alice', 2, 11, 0.75],
          ['key_b', 'bob', 1, 100, 0],
        ],
      )
      const byModel = await store.usage.summarize({ groupBy: 'model' })
      assert.deepEqual(
        byModel.map((row) => [row.group, row.requests, row.errors, row.estimated]),
        [
          ['albert-small', 2, 0, 1],
          ['mock-echo', 1, 1, 0],
        ],
      )
      const byProvider = await store.usage.summarize({ groupBy: 'provider' })
      assert.deepEqual(byProvider.map((row) => [row.group, row.completionTokens]).sort(), [
        ['demo', 0],
        ['vllm', 22],
      ])
      const byDay = await store.usage.summarize({ groupBy: 'day' })
      assert.deepEqual(
        byDay.map((row) => [row.group, row.requests]),
        [
          ['2025-06-01', 1],
          ['2025-06-02', 2],
        ],
      )
      const secondDay = await store.usage.summarize({ from: june1 + day, to: june1 + 2 * day })
      assert.equal(secondDay.length, 1)
      assert.equal(secondDay[0]!.requests, 2)
      assert.equal(secondDay[0]!.promptTokens, 101)
      const nothing = await store.usage.summarize({ from: june1 + 10 * day })
      assert.equal(nothing[0]!.requests, 0)
      assert.equal(nothing[0]!.cost, 0)

      const { requests } = await store.usage.listRequests({ limit: 10, model: 'small' })
      assert.equal(requests.length, 1)
      const [first] = requests
      assert.deepEqual(first, {
        ...firstRecord,
        id: first!.id,
      })
    })

    test('the request log pages newest first and filters by key, model and status', async () => {
      const pageOne = await store.usage.listRequests({ limit: 2 })
      assert.deepEqual(
        pageOne.requests.map((request) => request.requestId),
        ['r3', 'r2'],
      )
      assert.ok(pageOne.next !== undefined)
      const pageTwo = await store.usage.listRequests({ limit: 2, before: pageOne.next })
      assert.deepEqual(
        pageTwo.requests.map((request) => request.requestId),
        ['r1'],
      )
      assert.equal(pageTwo.next, undefined)
      const alice = await store.usage.listRequests({ limit: 10, keyId: 'key_a' })
      assert.deepEqual(
        alice.requests.map((request) => request.requestId),
        ['r2', 'r1'],
      )
      const failed = await store.usage.listRequests({ limit: 10, status: 502 })
      assert.deepEqual(
        failed.requests.map((request) => request.requestId),
        ['r3'],
      )
      const byCatalogModel = await store.usage.listRequests({ limit: 10, model: 'albert-small' })
      assert.equal(byCatalogModel.requests.length, 2)
    })

    test('a batch of any size lands whole and in order; a batch with a bad row lands none', async () => {
      // 203 rows: statements of 128, 64, 8, 2 and 1 rows on SQLite.
      const rows = Array.from({ length: 203 }, (_, index) =>
        record({
          requestId: `bulk-${index}`,
          keyId: 'key_bulk',
          startedAt: june1 + 10 * day + index,
        }),
      )
      await store.usage.insert(rows)
      const landed = await store.usage.listRequests({ limit: 500, keyId: 'key_bulk' })
      assert.deepEqual(
        landed.requests.map((request) => request.requestId).reverse(),
        rows.map((row) => row.requestId),
      )
      // The last row breaks a NOT NULL column: the 200 rows before it must not stay either.
      const broken = Array.from({ length: 201 }, (_, index) =>
        record({ requestId: `broken-${index}`, keyId: 'key_broken', startedAt: june1 + 11 * day }),
      )
      broken[200]!.status = null as unknown as number
      await assert.rejects(store.usage.insert(broken))
      const none = await store.usage.listRequests({ limit: 10, keyId: 'key_broken' })
      assert.equal(none.requests.length, 0)
    })
  })
}
