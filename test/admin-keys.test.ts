import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import { storeEngines } from './helpers/store-engines.ts'
import { adminKey, type StoreGateway, startStoreGateway } from './helpers/store-gateway.ts'

const models = `
providers:
  demo: { kind: mock }
models:
  - { id: mock-echo, type: text-generation, aliases: [mock], route: { provider: demo } }
  - { id: other-echo, type: text-generation, route: { provider: demo } }
`

async function chat(client: OpenAI, model = 'mock-echo') {
  return client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Hi there' }],
  })
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise
    return 200
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error.status ?? 0
    throw error
  }
}

for (const engine of storeEngines()) {
  describe(`admin API for keys on ${engine.name}`, { skip: engine.skip }, () => {
    let gateway: StoreGateway
    const secrets: string[] = []

    before(async () => {
      gateway = await startStoreGateway(await engine.create(), models, { adminKey })
    })
    after(async () => {
      await gateway?.stop(0)
      await engine.cleanup()
    })

    test('create, use with the openai SDK, list, show, patch, revoke: refused within a second', async () => {
      const created = await gateway.admin('POST', '/admin/keys', {
        name: 'search-team',
        models: ['mock*'],
        limits: { rpm: 100 },
        budget: { max_spend: 10, period: 'day' },
        labels: { team: 'search' },
      })
      assert.equal(created.status, 201, created.text)
      const secret = created.body.key as string
      secrets.push(secret)
      const id = created.body.id as string
      assert.match(secret, /^sy-/)
      assert.equal(created.body.prefix, secret.slice(0, 10))
      assert.deepEqual(created.body.budget, { max_spend: 10, period: 'day' })

      const client = gateway.clientFor(secret)
      const answer = await chat(client)
      assert.equal(answer.choices[0]?.message.content, 'Hi there')
      assert.equal(await status(chat(client, 'other-echo')), 403, 'the allow-list applies')
      const listed = await client.models.list()
      assert.deepEqual(
        listed.data.map((model) => model.id),
        ['mock-echo'],
      )

      const list = await gateway.admin('GET', '/admin/keys')
      assert.equal(list.status, 200)
      const data = list.body.data as Record<string, unknown>[]
      assert.ok(data.some((key) => key.id === id && key.name === 'search-team'))
      const shown = await gateway.admin('GET', `/admin/keys/${id}`)
      assert.equal(shown.status, 200)
      assert.equal(shown.body.key, undefined)
      for (const text of [list.text, shown.text]) assert.ok(!text.includes(secret))

      const patched = await gateway.admin('PATCH', `/admin/keys/${id}`, {
        name: 'search-team-2',
        models: ['*'],
      })
      assert.equal(patched.status, 200, patched.text)
      assert.equal(patched.body.name, 'search-team-2')
      assert.deepEqual(patched.body.labels, { team: 'search' }, 'untouched fields stay')
      assert.ok(!patched.text.includes(secret))
      // The store is re-read within half a second: the wider allow-list takes effect.
      const widenedBy = Date.now() + 3_000
      while ((await status(chat(client, 'other-echo'))) !== 200 && Date.now() < widenedBy) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.equal(await status(chat(client, 'other-echo')), 200)

      const revoked = await gateway.admin('DELETE', `/admin/keys/${id}`)
      assert.equal(revoked.status, 200)
      assert.equal(typeof revoked.body.revoked_at, 'string')
      const revokedAt = Date.now()
      let refusedAfter: number | undefined
      while (Date.now() - revokedAt < 3_000) {
        if ((await status(chat(client))) === 401) {
          refusedAfter = Date.now() - revokedAt
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      assert.ok(
        refusedAfter !== undefined && refusedAfter <= 1_000,
        `refused after ${refusedAfter} ms`,
      )
      assert.equal(await status(chat(client)), 401, 'and stays refused')
      const active = await gateway.admin('GET', '/admin/keys')
      assert.ok(!(active.body.data as { id: string }[]).some((key) => key.id === id))
      const all = await gateway.admin('GET', '/admin/keys?include_revoked=true')
      assert.ok((all.body.data as { id: string }[]).some((key) => key.id === id))
    })

    test('a key revoked on one replica is refused by another sharing the store within a second', async () => {
      const url = await engine.create()
      const first = await startStoreGateway(url, models, { adminKey })
      const second = await startStoreGateway(url, models, { adminKey })
      try {
        const created = await first.admin('POST', '/admin/keys', { name: 'shared' })
        secrets.push(created.body.key as string)
        const onSecond = second.clientFor(created.body.key as string)
        assert.equal(
          await status(chat(onSecond)),
          200,
          'a key made on one replica works on another',
        )
        await first.admin('DELETE', `/admin/keys/${created.body.id}`)
        const revokedAt = Date.now()
        while ((await status(chat(onSecond))) !== 401 && Date.now() - revokedAt < 3_000) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        assert.ok(Date.now() - revokedAt <= 1_000, `refused after ${Date.now() - revokedAt} ms`)
      } finally {
        await first.stop(0)
        await second.stop(0)
      }
    })

    test('an expired key is refused; clearing its expiry lets it in again', async () => {
      const created = await gateway.admin('POST', '/admin/keys', {
        name: 'expired',
        expires_at: '2020-01-01T00:00:00Z',
      })
      assert.equal(created.status, 201, created.text)
      secrets.push(created.body.key as string)
      const client = gateway.clientFor(created.body.key as string)
      const error = await chat(client).catch((caught: unknown) => caught)
      assert.ok(error instanceof OpenAI.APIError)
      assert.equal(error.status, 401)
      assert.match(error.message, /expired/)
      await gateway.admin('PATCH', `/admin/keys/${created.body.id}`, { expires_at: null })
      const deadline = Date.now() + 3_000
      while ((await status(chat(client))) !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.equal(await status(chat(client)), 200)
    })

    test('config-file keys keep working beside stored ones', async () => {
      const answer = await chat(gateway.clientFor('sk-test-alice-0123456789abcdef'), 'other-echo')
      assert.equal(answer.choices[0]?.message.content, 'Hi there')
      assert.equal(await status(chat(gateway.clientFor('sy-not-a-real-key-0000000000'))), 401)
    })

    test('invalid bodies are 400s naming the parameter', async () => {
      const cases: [unknown, string][] = [
        [{ name: 'x', limits: { rpm: -1 } }, 'limits.rpm'],
        [{ name: 'x', budget: { max_spend: 5, period: 'week' } }, 'budget.period'],
        [{ name: 'x', colour: 'red' }, 'colour'],
        [{ models: ['*'] }, 'name'],
        [{ name: 'x', expires_at: 'tomorrow' }, 'expires_at'],
      ]
      for (const [body, param] of cases) {
        const response = await gateway.admin('POST', '/admin/keys', body)
        assert.equal(response.status, 400, JSON.stringify(body))
        const error = response.body.error as Record<string, unknown>
        assert.equal(error.param, param)
        assert.equal(error.type, 'invalid_request_error')
      }
      const patch = await gateway.admin('PATCH', '/admin/keys/key_missing', { name: 'x' })
      assert.equal(patch.status, 404)
      const badCursor = await gateway.admin('GET', '/admin/keys?cursor=zzz')
      assert.equal(badCursor.status, 400)
    })

    test('lists page with a cursor', async () => {
      for (let index = 0; index < 3; index++) {
        const created = await gateway.admin('POST', '/admin/keys', { name: `page-${index}` })
        secrets.push(created.body.key as string)
      }
      const names: string[] = []
      let path = '/admin/keys?limit=2'
      for (let page = 0; page < 10; page++) {
        const response = await gateway.admin('GET', path)
        names.push(...(response.body.data as { name: string }[]).map((key) => key.name))
        if (!response.body.has_more) break
        path = `/admin/keys?limit=2&cursor=${response.body.next_cursor}`
      }
      assert.deepEqual(
        names.filter((name) => name.startsWith('page-')),
        ['page-0', 'page-1', 'page-2'],
      )
    })

    test('the admin key is required, compared exactly, and unknown routes stay hidden', async () => {
      const missing = await gateway.admin('GET', '/admin/keys', undefined, '')
      assert.equal(missing.status, 401)
      const wrong = await gateway.admin('GET', '/admin/keys', undefined, `${adminKey}x`)
      assert.equal(wrong.status, 401)
      const clientKey = await gateway.admin('GET', '/admin/keys', undefined, secrets[0])
      assert.equal(clientKey.status, 401, 'a client key is not an admin key')
      const hidden = await gateway.admin('GET', '/admin/nothing', undefined, 'wrong')
      assert.equal(hidden.status, 401, 'no route is revealed before authorisation')
      assert.equal((await gateway.admin('GET', '/admin/nothing')).status, 404)
      assert.equal((await gateway.admin('PUT', '/admin/keys')).status, 405)
    })

    test('no secret, stored or admin, ever reaches the logs', () => {
      assert.ok(secrets.length >= 5)
      const logs = gateway.logs.join('')
      assert.ok(logs.includes('"path":"/admin/keys"'), 'admin requests are logged')
      for (const secret of [...secrets, adminKey]) {
        assert.ok(!logs.includes(secret), 'secret in logs')
      }
    })
  })
}

describe('admin API without an admin key', () => {
  let gateway: StoreGateway
  before(async () => {
    const engine = storeEngines()[0]!
    gateway = await startStoreGateway(await engine.create(), models)
  })
  after(() => gateway?.stop(0))

  test('answers 403 with a message saying how to enable it', async () => {
    const response = await gateway.admin('GET', '/admin/keys', undefined, 'anything-at-all-12345')
    assert.equal(response.status, 403)
    assert.match(
      (response.body.error as { message: string }).message,
      /admin API is disabled.*auth\.admin_key/,
    )
  })
})
