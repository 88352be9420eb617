import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, beforeEach, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import OpenAI from 'openai'
import { parseConfig } from '../src/config/load.ts'
import { azureCompletion } from './helpers/azure-fixtures.ts'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'

const clientSecret = 'entra-secret-Q~0123456789abcdefghij'
const tenant = 'tenant-1'

/** Microsoft Entra ID's token endpoint: client credentials in, bearer tokens out, numbered. */
function entraAnswer(state: { issued: number; lifetime: number; refuse: boolean }) {
  return (request: { path: string; body: unknown }, response: ServerResponse) => {
    if (request.path !== `/${tenant}/oauth2/v2.0/token`) return sendJson(response, 404, {})
    if (state.refuse) {
      return sendJson(response, 401, {
        error: 'invalid_client',
        error_description: `AADSTS7000215: Invalid client secret provided (${clientSecret}).\r\nTrace ID: 1\r\nTimestamp: 2026-11-25`,
        error_codes: [7000215],
      })
    }
    state.issued++
    sendJson(response, 200, {
      token_type: 'Bearer',
      expires_in: state.lifetime,
      ext_expires_in: state.lifetime,
      access_token: `entra-token-${state.issued}`,
    })
  }
}

describe('kind: azure-openai with Microsoft Entra ID', () => {
  let entra: FakeUpstream
  let azure: FakeUpstream
  let gateway: TestGateway
  const state = { issued: 0, lifetime: 3600, refuse: false }
  /** Tokens Azure no longer accepts (revoked or rotated). */
  const revoked = new Set<string>()
  const held = () => `entra-token-${state.issued}`

  before(async () => {
    entra = await startFakeUpstream(entraAnswer(state))
    azure = await startFakeUpstream((request, response) => {
      const token = String(request.headers.authorization).replace(/^Bearer /, '')
      if (!token.startsWith('entra-token-') || revoked.has(token)) {
        return sendJson(response, 401, {
          error: {
            code: '401',
            message: 'Unauthorized. Access token is missing, invalid, or expired.',
          },
        })
      }
      sendJson(response, 200, azureCompletion({ role: 'assistant', content: 'Hello from Azure' }))
    })
    gateway = await startTestGateway(`
providers:
  azure:
    kind: azure-openai
    base_url: "${azure.url}"
    entra: { tenant_id: ${tenant}, client_id: app-1, client_secret: "${clientSecret}", authority_host: "${entra.url}" }
models:
  - { id: gpt-4o, type: text-generation, route: { provider: azure } }
`)
  })
  beforeEach(() => {
    state.lifetime = 3600
    state.refuse = false
  })
  after(async () => {
    await gateway.stop(0)
    await Promise.all([azure.close(), entra.close()])
  })

  const ask = () =>
    gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
    })

  test('requests carry the Entra token, fetched once with the client credentials and reused', async () => {
    for (let index = 0; index < 3; index++) {
      assert.equal((await ask()).choices[0]?.message.content, 'Hello from Azure')
    }
    assert.equal(entra.requests.length, 1)
    const form = new URLSearchParams(String(entra.requests[0]!.body))
    assert.equal(entra.requests[0]!.method, 'POST')
    assert.deepEqual(Object.fromEntries(form), {
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_secret: clientSecret,
      scope: 'https://cognitiveservices.azure.com/.default',
    })
    const sent = azure.requests.at(-1)!
    assert.equal(sent.headers.authorization, 'Bearer entra-token-1')
    assert.equal(sent.headers['api-key'], undefined)
  })

  test('a token Azure refuses is dropped and the request goes again with a new one', async () => {
    const before = entra.requests.length
    const refused = held()
    revoked.add(refused)
    assert.equal((await ask()).choices[0]?.message.content, 'Hello from Azure')
    assert.equal(entra.requests.length, before + 1)
    assert.deepEqual(
      azure.requests.slice(-2).map((request) => request.headers.authorization),
      [`Bearer ${refused}`, `Bearer ${held()}`],
    )
  })

  test('a token past half its life is used while the next one is fetched in the background', async () => {
    state.lifetime = 2
    revoked.add(held()) // so the next request fetches a 2-second token
    await ask()
    const short = held()
    const fetched = entra.requests.length
    state.lifetime = 3600
    await sleep(1100)
    await ask()
    assert.equal(azure.requests.at(-1)!.headers.authorization, `Bearer ${short}`)
    for (let tries = 0; tries < 100 && entra.requests.length === fetched; tries++) await sleep(10)
    assert.equal(entra.requests.length, fetched + 1)
    await ask()
    assert.equal(azure.requests.at(-1)!.headers.authorization, `Bearer ${held()}`)
    assert.notEqual(held(), short)
  })

  test('Entra refusing the credentials is a 502 that names Entra and never the secret', async () => {
    revoked.add(held()) // so the request needs a new token
    state.refuse = true
    const failure = await ask().catch((error: unknown) => error)
    assert.ok(failure instanceof OpenAI.APIError)
    assert.equal(failure.status, 502)
    assert.match(
      failure.message,
      /Microsoft Entra ID .* refused the gateway's Azure credentials: invalid_client: AADSTS7000215/,
    )
    assert.doesNotMatch(JSON.stringify(failure.error), /entra-secret|Trace ID/)
  })
})

test('an azure-openai provider takes api_key or entra, not both', () => {
  assert.throws(
    () =>
      parseConfig(
        `providers:
  azure: { kind: azure-openai, base_url: "https://x.openai.azure.com", api_key: k, entra: { tenant_id: t, client_id: c, client_secret: s } }
`,
        'test.yaml',
        {},
      ),
    /providers\.azure\.entra.*set api_key or entra, not both/s,
  )
})
