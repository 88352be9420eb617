import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { Portkey } from 'portkey-ai'
import type { RequestRecord } from '../src/core/request-record.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import {
  type ScriptedUpstream,
  startScriptedUpstream,
  status,
} from './helpers/scripted-upstream.ts'

const messages = [{ role: 'user' as const, content: 'Hi' }]

describe('Portkey SDK users switch by changing the base URL', () => {
  let primary: ScriptedUpstream
  let backup: ScriptedUpstream
  let gateway: TestGateway

  before(async () => {
    ;[primary, backup] = await Promise.all([
      startScriptedUpstream('primary'),
      startScriptedUpstream('backup'),
    ])
    gateway = await startTestGateway(`
providers:
  openai-prod: { kind: openai, base_url: "${primary.url}/v1" }
  openai-backup: { kind: openai, base_url: "${backup.url}/v1" }
configs:
  pc-fallback:
    strategy: { mode: fallback }
    targets: [{ virtual_key: openai-prod }, { virtual_key: openai-backup }]
models:
  - { id: gpt-4o-mini, type: text-generation, route: { provider: openai-prod } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await Promise.all([primary.close(), backup.close()])
  })
  beforeEach(() => {
    primary.reset()
    backup.reset()
  })

  // Portkey's own fallback config, written as Portkey documents it.
  const fallbackConfig = {
    strategy: { mode: 'fallback', on_status_codes: [429, 500, 503] },
    targets: [
      { virtual_key: 'openai-prod', override_params: { model: 'gpt-4o-mini' } },
      { virtual_key: 'openai-backup', override_params: { model: 'gpt-4o-mini-backup' } },
    ],
  }

  function portkey(options: Record<string, unknown> = {}) {
    return new Portkey({ apiKey: testKey, baseURL: gateway.baseURL, ...options })
  }

  test('create(params, { config }) falls back, unstreamed', async () => {
    primary.script([status(500)])
    const client = portkey({ traceID: 'trace-portkey-1', metadata: { team: 'search' } })
    const result = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages },
      { config: fallbackConfig },
    )
    assert.equal(result.choices[0]?.message?.content, 'from backup')
    // The Portkey SDK retries a failed call itself once; the gateway's fallback made that moot.
    assert.equal(primary.requests.length, 1)
    assert.equal(backup.requests.length, 1)
    assert.equal((backup.requests[0]!.body as { model: string }).model, 'gpt-4o-mini-backup')
    // Nothing Portkey-specific, and no gateway key, reaches the upstream.
    const sentHeaders = Object.keys(backup.requests[0]!.headers)
    assert.ok(!sentHeaders.some((name) => name.startsWith('x-portkey')), sentHeaders.join())
    assert.ok(!JSON.stringify(backup.requests[0]!.headers).includes(testKey))
  })

  test('create(params, { config }) falls back, streamed', async () => {
    primary.script([status(503)])
    const client = portkey()
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages, stream: true },
      { config: fallbackConfig },
    )
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    assert.equal(text, 'frombackup')
    assert.equal(primary.requests.length, 1)
    assert.equal(backup.requests.length, 1)
  })

  test('a saved config id and a virtual key work as Portkey configs do', async () => {
    primary.script([status(500)])
    const saved = await portkey({ config: 'pc-fallback' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
    })
    assert.equal(saved.choices[0]?.message?.content, 'from backup')
    const pinned = await portkey({ virtualKey: 'openai-backup' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
    })
    assert.equal(pinned.choices[0]?.message?.content, 'from backup')
    assert.equal((backup.requests.at(-1)!.body as { model: string }).model, 'gpt-4o-mini')
  })

  test('x-portkey-api-key authenticates, x-portkey-trace-id becomes the request id', async () => {
    const records: RequestRecord[] = []
    gateway.gateway.recorders.push({ record: (record) => records.push(record) })
    const response = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: {
        'x-portkey-api-key': testKey,
        // A Portkey user's OpenAI-SDK setup sends the provider key as Authorization: ignored.
        authorization: 'Bearer sk-provider-key-not-ours',
        'x-portkey-trace-id': 'trace-42',
        'x-portkey-metadata': '{"_user":"u1"}',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
    })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('x-request-id'), 'trace-42')
    const record = records.find((entry) => entry.requestId === 'trace-42')
    assert.deepEqual(record?.metadata, { _user: 'u1' }, 'metadata reaches the usage record')
    assert.ok(!JSON.stringify(primary.requests[0]!.headers).includes('sk-provider-key-not-ours'))
    const refused = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: {
        'x-portkey-api-key': 'sk-wrong-0123456789abcdef',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
    })
    assert.equal(refused.status, 401)
  })
})
