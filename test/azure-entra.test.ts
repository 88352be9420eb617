import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

test('entra takes exactly one way to a token, and a tenant and client id with a secret or a federated token', () => {
  const parse = (entra: string) =>
    parseConfig(
      `providers:\n  azure: { kind: azure-openai, base_url: "https://x.openai.azure.com", entra: ${entra} }\n`,
      'test.yaml',
      {},
    )
  assert.throws(
    () => parse('{ tenant_id: t, client_id: c, client_secret: s, managed_identity: {} }'),
    /set one of client_secret, federated_token_file or managed_identity/,
  )
  assert.throws(() => parse('{ tenant_id: t }'), /set one of client_secret/)
  assert.throws(
    () => parse('{ client_id: c, federated_token_file: /tmp/token }'),
    /entra\.tenant_id.*tenant_id is required with federated_token_file/s,
  )
  const identity = parse('{ managed_identity: {} }').providers.azure as {
    entra?: { managed_identity?: { endpoint: string } }
  }
  assert.equal(
    identity.entra?.managed_identity?.endpoint,
    'http://169.254.169.254/metadata/identity/oauth2/token',
  )
})

/** Starts an Azure deployment that accepts only the bearer tokens `accepted` says it may. */
async function startAzure(accepted: (token: string) => boolean): Promise<FakeUpstream> {
  return startFakeUpstream((request, response) => {
    const token = String(request.headers.authorization).replace(/^Bearer /, '')
    if (!accepted(token)) {
      return sendJson(response, 401, { error: { code: '401', message: 'Unauthorized.' } })
    }
    sendJson(response, 200, azureCompletion({ role: 'assistant', content: `Hello ${token}` }))
  })
}

const askGpt = (gateway: TestGateway) =>
  gateway.client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'Hi' }],
  })

describe('kind: azure-openai with workload identity federation', () => {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-federated-'))
  const tokenFile = join(directory, 'azure-identity-token')
  let entra: FakeUpstream
  let azure: FakeUpstream
  let gateway: TestGateway
  const revoked = new Set<string>()
  let issued = 0

  before(async () => {
    writeFileSync(tokenFile, 'eyJ.federated-assertion-1.sig\n')
    entra = await startFakeUpstream((request, response) => {
      const form = new URLSearchParams(String(request.body))
      if (form.get('client_assertion') === 'eyJ.expired-assertion.sig') {
        return sendJson(response, 400, {
          error: 'invalid_client',
          error_description:
            'AADSTS700024: Client assertion eyJ.expired-assertion.sig is not within its valid time range.',
        })
      }
      issued++
      sendJson(response, 200, {
        token_type: 'Bearer',
        expires_in: 3600,
        access_token: `wi-${issued}`,
      })
    })
    azure = await startAzure((token) => token.startsWith('wi-') && !revoked.has(token))
    gateway = await startTestGateway(`
providers:
  azure:
    kind: azure-openai
    base_url: "${azure.url}"
    entra: { tenant_id: ${tenant}, client_id: workload-app, federated_token_file: "${tokenFile}", authority_host: "${entra.url}" }
models:
  - { id: gpt-4o, type: text-generation, route: { provider: azure } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await Promise.all([azure.close(), entra.close()])
    rmSync(directory, { recursive: true, force: true })
  })

  test('the federated token file is the client assertion, read again at every fetch', async () => {
    assert.equal((await askGpt(gateway)).choices[0]?.message.content, 'Hello wi-1')
    assert.equal(entra.requests[0]!.path, `/${tenant}/oauth2/v2.0/token`)
    assert.deepEqual(Object.fromEntries(new URLSearchParams(String(entra.requests[0]!.body))), {
      grant_type: 'client_credentials',
      client_id: 'workload-app',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'eyJ.federated-assertion-1.sig',
      scope: 'https://cognitiveservices.azure.com/.default',
    })

    // The platform rotates the file; the next fetch (here after Azure refused the token) reads it.
    writeFileSync(tokenFile, 'eyJ.federated-assertion-2.sig')
    revoked.add('wi-1')
    assert.equal((await askGpt(gateway)).choices[0]?.message.content, 'Hello wi-2')
    const form = new URLSearchParams(String(entra.requests.at(-1)!.body))
    assert.equal(form.get('client_assertion'), 'eyJ.federated-assertion-2.sig')
  })

  test('a refused assertion or a missing file is a 502 that never shows the assertion', async () => {
    writeFileSync(tokenFile, 'eyJ.expired-assertion.sig')
    revoked.add(`wi-${issued}`)
    const refused = await askGpt(gateway).catch((error: unknown) => error)
    assert.ok(refused instanceof OpenAI.APIError)
    assert.equal(refused.status, 502)
    assert.match(refused.message, /Microsoft Entra ID .* refused .*AADSTS700024/)
    assert.doesNotMatch(JSON.stringify(refused.error), /expired-assertion/)

    rmSync(tokenFile)
    const missing = await askGpt(gateway).catch((error: unknown) => error)
    assert.ok(missing instanceof OpenAI.APIError)
    assert.equal(missing.status, 502)
    assert.match(
      missing.message,
      /federated token file .*azure-identity-token could not be read \(ENOENT\)/,
    )
  })
})

describe('kind: azure-openai with a managed identity', () => {
  const identityHeader = 'f1d2a4e0-identity-header-secret'
  let identity: FakeUpstream
  let azure: FakeUpstream
  let vm: TestGateway
  let appService: TestGateway
  let issued = 0
  let refuse = false

  before(async () => {
    identity = await startFakeUpstream((request, response) => {
      if (refuse) {
        return sendJson(response, 400, {
          error: 'invalid_request',
          error_description: `Identity not found for header ${identityHeader}`,
        })
      }
      issued++
      const appServiceStyle = request.headers['x-identity-header'] !== undefined
      // IMDS answers expires_in as a string; App Service answers only expires_on, epoch seconds.
      sendJson(response, 200, {
        access_token: `mi-${issued}`,
        token_type: 'Bearer',
        resource: 'https://cognitiveservices.azure.com',
        ...(appServiceStyle
          ? { expires_on: String(Math.floor(Date.now() / 1000) + 86_400) }
          : { expires_in: '86399', expires_on: String(Math.floor(Date.now() / 1000) + 86_399) }),
      })
    })
    azure = await startAzure((token) => token.startsWith('mi-'))
    const config = (entra: string) => `
providers:
  azure: { kind: azure-openai, base_url: "${azure.url}", entra: ${entra} }
models:
  - { id: gpt-4o, type: text-generation, route: { provider: azure } }
`
    vm = await startTestGateway(
      config(
        `{ managed_identity: { client_id: user-assigned-1, endpoint: "${identity.url}/metadata/identity/oauth2/token" } }`,
      ),
    )
    appService = await startTestGateway(
      config(
        `{ managed_identity: { endpoint: "${identity.url}/msi/token", identity_header: "${identityHeader}" } }`,
      ),
    )
  })
  after(async () => {
    await Promise.all([vm.stop(0), appService.stop(0)])
    await Promise.all([azure.close(), identity.close()])
  })

  test('on a VM: a GET to the Instance Metadata Service, the token reused', async () => {
    const before = identity.requests.length
    const first = await askGpt(vm)
    await askGpt(vm)
    assert.equal(identity.requests.length, before + 1)
    const sent = identity.requests.at(-1)!
    assert.equal(sent.method, 'GET')
    assert.equal(sent.headers.metadata, 'true')
    const url = new URL(sent.path, 'http://localhost')
    assert.equal(url.pathname, '/metadata/identity/oauth2/token')
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      'api-version': '2018-02-01',
      resource: 'https://cognitiveservices.azure.com',
      client_id: 'user-assigned-1',
    })
    assert.match(first.choices[0]?.message.content ?? '', /^Hello mi-\d+$/)
  })

  test('on App Service: the identity header, api-version 2019-08-01, a lifetime from expires_on', async () => {
    const before = identity.requests.length
    await askGpt(appService)
    await askGpt(appService)
    assert.equal(identity.requests.length, before + 1, 'expires_on gave the token a lifetime')
    const sent = identity.requests.at(-1)!
    assert.equal(sent.headers['x-identity-header'], identityHeader)
    assert.equal(sent.headers.metadata, undefined)
    const url = new URL(sent.path, 'http://localhost')
    assert.equal(url.pathname, '/msi/token')
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      'api-version': '2019-08-01',
      resource: 'https://cognitiveservices.azure.com',
    })
  })

  test('an identity endpoint that refuses is a 502 that never shows the identity header', async () => {
    refuse = true
    const fresh = await startTestGateway(`
providers:
  azure: { kind: azure-openai, base_url: "${azure.url}", entra: { managed_identity: { endpoint: "${identity.url}/msi/token", identity_header: "${identityHeader}" } } }
models:
  - { id: gpt-4o, type: text-generation, route: { provider: azure } }
`)
    try {
      const failure = await askGpt(fresh).catch((error: unknown) => error)
      assert.ok(failure instanceof OpenAI.APIError)
      assert.equal(failure.status, 502)
      assert.match(failure.message, /managed identity endpoint .* refused .*invalid_request/)
      assert.doesNotMatch(JSON.stringify(failure.error), /identity-header-secret/)
    } finally {
      refuse = false
      await fresh.stop(0)
    }
  })
})
