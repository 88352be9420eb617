import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { otherKey, startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'

const upstreamSecret = 'sk-upstream-secret-abcdef123456'

describe('errors are OpenAI-shaped with the right status', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway

  before(async () => {
    upstream = await startFakeUpstream(() => {})
    gateway = await startTestGateway(`
providers:
  vllm: { kind: openai, base_url: "${upstream.url}/v1", api_key: ${upstreamSecret}, timeouts: { first_byte_ms: 300 } }
  dead: { kind: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  - { id: small, type: text-generation, route: { provider: vllm } }
  - { id: unreachable, type: text-generation, route: { provider: dead } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  async function post(body: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${testKey}`,
        'content-type': 'application/json',
        ...headers,
      },
      body,
    })
    const json = (await response.json()) as { error: Record<string, unknown> }
    assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type'])
    return { status: response.status, error: json.error, headers: response.headers }
  }

  const chat = (model: string) =>
    JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] })

  test('invalid JSON is a 400', async () => {
    const { status, error } = await post('{"model": ')
    assert.equal(status, 400)
    assert.equal(error.code, 'invalid_json')
    assert.equal(error.type, 'invalid_request_error')
  })

  test('missing model and missing messages are 400s naming the param', async () => {
    const noModel = await post(JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }))
    assert.equal(noModel.status, 400)
    assert.equal(noModel.error.param, 'model')
    assert.equal(noModel.error.code, 'missing_parameter')
    const noMessages = await post(JSON.stringify({ model: 'small' }))
    assert.equal(noMessages.status, 400)
    assert.equal(noMessages.error.param, 'messages')
    const badRole = await post(
      JSON.stringify({ model: 'small', messages: [{ role: 'wizard', content: 'x' }] }),
    )
    assert.equal(badRole.status, 400)
    assert.equal(badRole.error.param, 'messages[0].role')
  })

  test('unknown model is a 404 model_not_found; a model outside the allow-list is a 403', async () => {
    const unknown = await post(chat('nope'))
    assert.equal(unknown.status, 404)
    assert.equal(unknown.error.code, 'model_not_found')
    const bob = new OpenAI({ baseURL: gateway.baseURL, apiKey: otherKey, maxRetries: 0 })
    await assert.rejects(
      bob.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'x' }] }),
      (error) => {
        assert.ok(error instanceof OpenAI.PermissionDeniedError)
        assert.equal(error.status, 403)
        assert.equal(error.code, 'model_not_allowed')
        return true
      },
    )
  })

  test('missing or bad key is a 401, before the body is read', async () => {
    for (const authorization of [undefined, 'Bearer wrong-key-0123456789', 'Basic abc']) {
      const response = await fetch(`${gateway.baseURL}/chat/completions`, {
        method: 'POST',
        headers: authorization ? { authorization } : {},
        body: chat('small'),
      })
      assert.equal(response.status, 401)
      const body = (await response.json()) as { error: { type: string } }
      assert.equal(body.error.type, 'authentication_error')
    }
    const models = await fetch(`${gateway.baseURL}/models`)
    assert.equal(models.status, 401)
  })

  test('a body over the limit is a 413', async () => {
    const huge = JSON.stringify({
      model: 'small',
      messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }],
    })
    const { status, error } = await post(huge)
    assert.equal(status, 413)
    assert.equal(error.code, 'body_too_large')
  })

  test('upstream unreachable is a 502; upstream timeout is a 504', async () => {
    const unreachable = await post(chat('unreachable'))
    assert.equal(unreachable.status, 502)
    assert.equal(unreachable.error.code, 'upstream_unreachable')
    upstream.handle(() => {}) // never answers
    const started = Date.now()
    const timeout = await post(chat('small'))
    assert.equal(timeout.status, 504)
    assert.equal(timeout.error.code, 'upstream_timeout')
    assert.ok(Date.now() - started < 3000)
  })

  test('an upstream 4xx is relayed with its status and message; no error echoes the provider key', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 400, {
        error: {
          message: 'max_tokens is too large',
          type: 'invalid_request_error',
          param: 'max_tokens',
          code: null,
        },
      }),
    )
    const relayed = await post(chat('small'))
    assert.equal(relayed.status, 400)
    assert.equal(relayed.error.message, 'max_tokens is too large')
    assert.equal(relayed.error.param, 'max_tokens')

    upstream.handle((_request, response) =>
      sendJson(response, 401, {
        error: {
          message: `Incorrect API key provided: ${upstreamSecret}`,
          code: 'invalid_api_key',
        },
      }),
    )
    const auth = await post(chat('small'))
    assert.equal(auth.status, 502)
    assert.equal(auth.error.code, 'upstream_auth')
    assert.ok(!JSON.stringify(auth.error).includes(upstreamSecret))

    upstream.handle((_request, response) =>
      sendJson(response, 422, {
        error: { message: `key ${upstreamSecret} cannot use this`, type: 'invalid_request_error' },
      }),
    )
    const echoed = await post(chat('small'))
    assert.equal(echoed.status, 422)
    assert.ok(!JSON.stringify(echoed.error).includes(upstreamSecret))
    assert.match(String(echoed.error.message), /\[redacted\]/)

    upstream.handle((_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' })
      response.end(
        JSON.stringify({
          error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' },
        }),
      )
    })
    const limited = await post(chat('small'))
    assert.equal(limited.status, 429)
    assert.equal(limited.headers.get('retry-after'), '7')
  })

  test('request ids: a client id is echoed, unknown routes are 404s with one too', async () => {
    upstream.handle((_request, response) => sendJson(response, 400, { error: { message: 'no' } }))
    const echoed = await post(chat('small'), { 'x-request-id': 'my-trace-42' })
    assert.equal(echoed.headers.get('x-request-id'), 'my-trace-42')
    const missing = await fetch(`${gateway.url}/v2/nothing`)
    assert.equal(missing.status, 404)
    assert.ok(missing.headers.get('x-request-id'))
    // Every answer carries one, whichever handler rendered it.
    const health = await fetch(`${gateway.url}/health`, { headers: { 'x-request-id': 'h-1' } })
    assert.deepEqual(await health.json(), { status: 'ok' })
    assert.equal(health.headers.get('x-request-id'), 'h-1')
    const models = await fetch(`${gateway.baseURL}/models`, {
      headers: { authorization: `Bearer ${testKey}`, 'x-request-id': 'm-1' },
    })
    assert.equal(models.status, 200)
    assert.equal(models.headers.get('x-request-id'), 'm-1')
  })
})

describe('hostile request details', () => {
  let gateway: TestGateway

  before(async () => {
    gateway = await startTestGateway(`
providers: { demo: { kind: mock } }
models: [ { id: mock-echo, type: text-generation, route: { provider: demo } } ]
`)
  })
  after(async () => {
    await gateway.stop(0)
  })

  test('a malformed model path is a 404, not a crash', async () => {
    const response = await fetch(`${gateway.baseURL}/models/%E0%A4%A`, {
      headers: { authorization: `Bearer ${testKey}` },
    })
    assert.equal(response.status, 404)
    const body = (await response.json()) as { error: { type: string } }
    assert.equal(body.error.type, 'not_found_error')
    assert.equal((await fetch(`${gateway.url}/health`)).status, 200)
  })

  test('a request id that is unsafe to echo is replaced by a generated one', async () => {
    const response = await fetch(`${gateway.url}/health`, {
      headers: { 'x-request-id': `${'a'.repeat(300)}` },
    })
    assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
    const spaced = await fetch(`${gateway.url}/health`, {
      headers: { 'x-request-id': 'two words' },
    })
    assert.match(spaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
  })
})
