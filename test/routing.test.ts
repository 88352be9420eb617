import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import OpenAI from 'openai'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import {
  answer,
  type ScriptedUpstream,
  startScriptedUpstream,
  status,
} from './helpers/scripted-upstream.ts'

const messages = [{ role: 'user' as const, content: 'Hi' }]

describe('routing and resilience over HTTP', () => {
  let a: ScriptedUpstream
  let b: ScriptedUpstream
  let c: ScriptedUpstream
  let gateway: TestGateway

  before(async () => {
    ;[a, b, c] = await Promise.all([
      startScriptedUpstream('a'),
      startScriptedUpstream('b'),
      startScriptedUpstream('c'),
    ])
    const cHost = new URL(c.url).host
    gateway = await startTestGateway(`
routing:
  allowed_custom_hosts: ["${cHost}"]
  retry: { base_delay_ms: 20, max_delay_ms: 100, max_retry_after_ms: 5000 }
  circuit_breaker: { failure_threshold: 3, cooldown_ms: 500 }
providers:
  a: { kind: openai, base_url: "${a.url}/v1" }
  b: { kind: openai, base_url: "${b.url}/v1" }
  c: { kind: openai, base_url: "${c.url}/v1", api_key: server-key-for-c }
configs:
  b-only: { provider: b, model: saved-b }
  by-tier:
    strategy:
      mode: conditional
      conditions:
        - { query: { metadata.tier: { $eq: pro } }, then: big }
        - { query: { params.max_tokens: { $gt: 1000 } }, then: long }
      default: small
    targets:
      - { name: big, provider: a, model: big-model }
      - { name: long, provider: b, model: long-model }
      - { name: small, provider: c, model: small-model }
models:
  - id: retry-then-fallback
    type: text-generation
    route:
      strategy: { mode: fallback, on_status_codes: [503] }
      retry: { attempts: 2, on_status_codes: [503] }
      targets:
        - { provider: a, model: rf-a }
        - { provider: b, model: rf-b, override_params: { temperature: 0.2 } }
  - id: retry-after
    type: text-generation
    route: { provider: a, model: ra-a, retry: { attempts: 1 } }
  - id: timeout
    type: text-generation
    route:
      strategy: { mode: fallback }
      request_timeout: 300
      targets: [{ provider: a, model: to-a }, { provider: b, model: to-b }]
  - id: stream-fallback
    type: text-generation
    route:
      strategy: { mode: fallback }
      targets: [{ provider: a, model: sf-a }, { provider: b, model: sf-b }]
  - id: header-timeout
    type: text-generation
    route:
      strategy: { mode: fallback }
      targets: [{ provider: a, model: ht-a }, { provider: b, model: ht-b }]
  - { id: header-timeout-single, type: text-generation, route: { provider: a, model: hts-a } }
  - id: stream-drop
    type: text-generation
    route:
      strategy: { mode: fallback }
      targets: [{ provider: a, model: sd-a }, { provider: b, model: sd-b }]
  - id: not-on-400
    type: text-generation
    route:
      strategy: { mode: fallback, on_status_codes: [500, 502, 503] }
      targets: [{ provider: a, model: n4-a }, { provider: b, model: n4-b }]
  - id: breaker
    type: text-generation
    route: { provider: a, model: breaker-a }
  - id: balanced
    type: text-generation
    route:
      strategy: { mode: loadbalance }
      targets: [{ provider: a, model: lb, weight: 3 }, { provider: b, model: lb, weight: 1 }]
  - id: balanced-breaker
    type: text-generation
    route:
      strategy: { mode: loadbalance }
      targets: [{ provider: a, model: lbb, weight: 1 }, { provider: b, model: lbb, weight: 1 }]
  - id: nested
    type: text-generation
    route:
      strategy: { mode: fallback }
      targets:
        - strategy: { mode: loadbalance }
          targets: [{ provider: a, model: n-a, weight: 1 }, { provider: c, model: n-c, weight: 0 }]
        - { provider: b, model: n-b }
  - { id: small, type: text-generation, route: { provider: a, model: small-a } }
  - { id: tiered, type: text-generation, route: by-tier }
  - id: patient
    type: text-generation
    route:
      strategy: { mode: fallback }
      retry: { attempts: 3 }
      targets: [{ provider: a, model: patient-a }, { provider: b, model: patient-b }]
`)
  })
  after(async () => {
    await gateway.stop(0)
    await Promise.all([a.close(), b.close(), c.close()])
  })
  beforeEach(() => {
    a.reset()
    b.reset()
    c.reset()
  })

  function post(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    return fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${testKey}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({ messages, ...body }),
    })
  }

  test('retries a target, then falls back, in order, and says what happened', async () => {
    a.script([], status(503))
    const response = await gateway.client.chat.completions
      .create({ model: 'retry-then-fallback', messages })
      .withResponse()
    assert.equal(response.data.choices[0]?.message.content, 'from b')
    assert.equal(response.data.model, 'retry-then-fallback')
    assert.equal(a.requests.length, 3, 'one try and two retries on a')
    assert.equal(b.requests.length, 1)
    assert.deepEqual(
      a.requests.map((request) => (request.body as { model: string }).model),
      ['rf-a', 'rf-a', 'rf-a'],
    )
    const sentToB = b.requests[0]!.body as { model: string; temperature: number }
    assert.equal(sentToB.model, 'rf-b')
    assert.equal(sentToB.temperature, 0.2, 'override_params merged for that target')
    assert.equal(response.response.headers.get('x-switchyard-provider'), 'b')
    assert.equal(response.response.headers.get('x-switchyard-model'), 'rf-b')
    assert.equal(response.response.headers.get('x-switchyard-attempts'), '4')
    assert.equal(response.response.headers.get('x-switchyard-route-path'), 'targets[1]')
    // Backoff with base 20 ms and cap 100 ms: the retries came quickly, never instantly stacked.
    const waits = [a.arrivals[1]! - a.arrivals[0]!, a.arrivals[2]! - a.arrivals[1]!]
    for (const wait of waits) assert.ok(wait < 500, `backoff wait ${wait} ms`)
  })

  test('honours retry-after-ms before retrying', async () => {
    a.script([status(429, { 'retry-after-ms': '400' })], answer('second try'))
    const started = performance.now()
    const result = await gateway.client.chat.completions.create({ model: 'retry-after', messages })
    assert.equal(result.choices[0]?.message.content, 'second try')
    assert.equal(a.requests.length, 2)
    const wait = a.arrivals[1]! - a.arrivals[0]!
    assert.ok(wait >= 380, `waited ${wait} ms for retry-after-ms 400`)
    assert.ok(performance.now() - started < 3000)
  })

  test('a retry-after beyond the cap is not waited for: the route falls back at once', async () => {
    a.script([status(503, { 'retry-after': '60' })], answer('unused'))
    const started = performance.now()
    const result = await gateway.client.chat.completions.create({ model: 'patient', messages })
    assert.equal(result.choices[0]?.message.content, 'from b')
    assert.equal(a.requests.length, 1)
    assert.ok(performance.now() - started < 1000)
  })

  test('a target that hangs times out (request_timeout) and the route falls back', async () => {
    a.script([{ type: 'hang' }])
    const started = performance.now()
    const result = await gateway.client.chat.completions.create({ model: 'timeout', messages })
    const elapsed = performance.now() - started
    assert.equal(result.choices[0]?.message.content, 'from b')
    assert.ok(elapsed >= 280 && elapsed < 2000, `fell back after ${elapsed} ms`)
    await a.requests[0]!.closed
  })

  test("a request timeout header (Portkey's or ours) overrides the route's, per attempt", {
    timeout: 15_000,
  }, async () => {
    // header-timeout has no request_timeout: without the header, a hang would hold the request.
    a.script([{ type: 'hang' }])
    const started = performance.now()
    const fellBack = await post({ model: 'header-timeout' }, { 'x-portkey-request-timeout': '150' })
    const elapsed = performance.now() - started
    assert.equal(fellBack.status, 200)
    assert.equal(fellBack.headers.get('x-switchyard-provider'), 'b')
    assert.ok(elapsed >= 130 && elapsed < 2000, `fell back after ${elapsed} ms`)
    await a.requests[0]!.closed

    // A single target that hangs: the client gets the timeout, not a hang.
    a.script([{ type: 'hang' }])
    const timedOut = await post(
      { model: 'header-timeout-single' },
      { 'x-switchyard-request-timeout': '100' },
    )
    assert.equal(timedOut.status, 504)
    const error = ((await timedOut.json()) as { error: { code: string; message: string } }).error
    assert.equal(error.code, 'upstream_timeout')
    assert.match(error.message, /within the request timeout \(100 ms\)/)

    for (const value of ['0', '-5', '1.5', 'soon', '3600001']) {
      const refused = await post(
        { model: 'header-timeout-single' },
        { 'x-switchyard-request-timeout': value },
      )
      assert.equal(refused.status, 400, value)
      assert.match(
        ((await refused.json()) as { error: { message: string } }).error.message,
        /x-switchyard-request-timeout: a whole number of milliseconds/,
      )
    }
  })

  test('streams fall back transparently on a status, a reset, or a cut before the first chunk', async () => {
    for (const failure of [
      status(500),
      { type: 'reset' as const },
      { type: 'reset-after-headers' as const },
    ]) {
      a.reset()
      b.reset()
      a.script([failure])
      const stream = await gateway.client.chat.completions.create({
        model: 'stream-fallback',
        messages,
        stream: true,
      })
      let text = ''
      for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
      assert.equal(text, 'fromb', `after ${failure.type}`)
      assert.equal(a.requests.length, 1)
      assert.equal(b.requests.length, 1)
    }
  })

  test('a stream cut after its first chunk is not retried: the client sees the error', async () => {
    a.script([{ type: 'drop-stream', chunks: 2 }])
    const stream = await gateway.client.chat.completions.create({
      model: 'stream-drop',
      messages,
      stream: true,
    })
    const contents: string[] = []
    await assert.rejects(async () => {
      for await (const part of stream) contents.push(part.choices[0]?.delta.content ?? '')
    }, OpenAI.APIError)
    assert.deepEqual(contents, ['', 'partial'])
    assert.equal(b.requests.length, 0)
  })

  test('falls back only on the listed statuses', async () => {
    a.script([status(400)])
    const response = await post({ model: 'not-on-400' })
    assert.equal(response.status, 400)
    assert.equal(b.requests.length, 0)
    a.script([status(500)])
    const second = await post({ model: 'not-on-400' })
    assert.equal(second.status, 200)
    assert.equal(b.requests.length, 1)
  })

  test('the breaker opens after repeated failures, answers 503 at once, then probes and closes', async () => {
    a.script([], status(500))
    for (let index = 0; index < 3; index++) {
      assert.equal((await post({ model: 'breaker' })).status, 502)
    }
    assert.equal(a.requests.length, 3)
    const refused = await post({ model: 'breaker' })
    assert.equal(refused.status, 503)
    const body = (await refused.json()) as { error: { code: string; message: string } }
    assert.equal(body.error.code, 'no_healthy_target')
    assert.match(body.error.message, /cooling down/)
    assert.equal(a.requests.length, 3, 'an open target gets no traffic')
    await new Promise((resolve) => setTimeout(resolve, 550))
    a.script([], answer('healthy again'))
    const probe = await post({ model: 'breaker' })
    assert.equal(probe.status, 200)
    assert.equal((await post({ model: 'breaker' })).status, 200, 'closed after a good probe')
    assert.equal(a.requests.length, 5)
  })

  test('a load balancer sends an open target share elsewhere', async () => {
    a.script([], status(502))
    for (let index = 0; index < 40 && a.requests.length < 3; index++) {
      await (await post({ model: 'balanced-breaker' })).text()
    }
    assert.equal(a.requests.length, 3, 'a tripped after three failures')
    b.reset()
    for (let index = 0; index < 8; index++) {
      const response = await post({ model: 'balanced-breaker' })
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('x-switchyard-provider'), 'b')
    }
    assert.equal(a.requests.length, 3)
    assert.equal(b.requests.length, 8)
  })

  test('weighted balancing end to end lands near the weights', async () => {
    const requests = 80
    for (let index = 0; index < requests; index++) {
      const response = await post({ model: 'balanced' })
      assert.equal(response.status, 200)
      await response.text()
    }
    // 3:1 over 80 requests: 60 expected on a, standard deviation about 3.9; allow 4 of them.
    assert.equal(a.requests.length + b.requests.length, requests)
    assert.ok(a.requests.length >= 44 && a.requests.length <= 76, `a got ${a.requests.length}`)
  })

  test('nested configs report the path taken; weight 0 is never picked', async () => {
    const first = await post({ model: 'nested' })
    assert.equal(first.headers.get('x-switchyard-route-path'), 'targets[0].targets[0]')
    a.script([status(500)])
    const second = await post({ model: 'nested' })
    assert.equal(second.headers.get('x-switchyard-route-path'), 'targets[1]')
    assert.equal(second.headers.get('x-switchyard-attempts'), '2')
    assert.equal(c.requests.length, 0)
  })

  test('a per-request config overrides the model route, inline or by saved id', async () => {
    const inline = await gateway.client.chat.completions
      .create(
        // The target's override_params win over what the client sent (max_tokens).
        { model: 'small', messages, max_tokens: 100 },
        {
          headers: {
            'x-switchyard-config': JSON.stringify({
              strategy: { mode: 'fallback' },
              targets: [
                { provider: 'b', override_params: { model: 'from-header', max_tokens: 7 } },
              ],
            }),
          },
        },
      )
      .withResponse()
    assert.equal(inline.data.choices[0]?.message.content, 'from b')
    assert.equal(inline.response.headers.get('x-switchyard-provider'), 'b')
    const sent = b.requests[0]!.body as { model: string; max_tokens: number }
    assert.deepEqual([sent.model, sent.max_tokens], ['from-header', 7])
    const saved = await post({ model: 'small' }, { 'x-switchyard-config': 'b-only' })
    assert.equal(saved.headers.get('x-switchyard-model'), 'saved-b')
    assert.equal(a.requests.length, 0)
    // The model need not be in the catalog when the config says where to go.
    const uncatalogued = await post(
      { model: 'anything-upstream' },
      { 'x-switchyard-config': '{"provider":"b"}' },
    )
    assert.equal(uncatalogued.status, 200)
    assert.equal((b.requests.at(-1)!.body as { model: string }).model, 'anything-upstream')
  })

  test('a broken per-request config is a 400 naming the path', async () => {
    const cases: [string, RegExp][] = [
      ['{not json', /x-switchyard-config: not valid JSON/],
      [
        '{"strategy":{"mode":"fallback"},"targets":[{"provider":"a"},{"provider":"nowhere"}]}',
        /x-switchyard-config targets\[1\]\.provider: unknown provider "nowhere"/,
      ],
      [
        '{"strategy":{"mode":"fallback"},"targets":[{"provider":"a","cache":{"mode":"simple"}}]}',
        /targets\[0\]\.cache: cache applies to the whole config: set it at the top level/,
      ],
      ['no-such-saved-config', /no saved config "no-such-saved-config"/],
    ]
    for (const [header, message] of cases) {
      const response = await post({ model: 'small' }, { 'x-switchyard-config': header })
      assert.equal(response.status, 400, header)
      const body = (await response.json()) as { error: { code: string; message: string } }
      assert.equal(body.error.code, 'invalid_config')
      assert.match(body.error.message, message)
    }
    assert.equal(a.requests.length + b.requests.length, 0)
  })

  test('a per-request custom host or inline key is refused unless the host is allowed', async () => {
    const refused = [
      { provider: 'a', custom_host: 'http://10.0.0.1:8080/v1' },
      { provider: 'a', custom_host: 'http://127.0.0.1:1/v1', api_key: 'sk-mine' },
      { provider: 'a', api_key: 'sk-mine' },
    ]
    for (const target of refused) {
      const response = await post(
        { model: 'small' },
        { 'x-switchyard-config': JSON.stringify(target) },
      )
      assert.equal(response.status, 403, JSON.stringify(target))
      const body = (await response.json()) as { error: { code: string; message: string } }
      assert.equal(body.error.code, 'forbidden')
      assert.ok(!body.error.message.includes('sk-mine'))
    }
    assert.equal(a.requests.length, 0)
    const allowed = await post(
      { model: 'small' },
      {
        'x-switchyard-config': JSON.stringify({
          provider: 'a',
          custom_host: `${c.url}/v1`,
          api_key: 'sk-client-own-key-123',
        }),
      },
    )
    assert.equal(allowed.status, 200)
    assert.equal(c.requests.length, 1)
    assert.equal(c.requests[0]!.headers.authorization, 'Bearer sk-client-own-key-123')
    assert.equal(a.requests.length, 0)
  })

  test('conditional routing picks by metadata, then by params, else the default', async () => {
    const pro = await post({ model: 'tiered' }, { 'x-switchyard-metadata': '{"tier":"pro"}' })
    assert.equal(pro.headers.get('x-switchyard-model'), 'big-model')
    assert.equal(pro.headers.get('x-switchyard-route-path'), 'targets[0]')
    const long = await post(
      { model: 'tiered', max_tokens: 4000 },
      { 'x-switchyard-metadata': '{"tier":"free"}' },
    )
    assert.equal(long.headers.get('x-switchyard-model'), 'long-model')
    const plain = await post({ model: 'tiered', max_tokens: 10 })
    assert.equal(plain.headers.get('x-switchyard-model'), 'small-model')
    assert.deepEqual([a.requests.length, b.requests.length, c.requests.length], [1, 1, 1])
    const bad = await post({ model: 'tiered' }, { 'x-switchyard-metadata': '[1,2]' })
    assert.equal(bad.status, 400)
  })

  test('a client that disconnects during a retry wait stops all upstream traffic', async () => {
    a.script([], status(429, { 'retry-after': '1' }))
    const controller = new AbortController()
    const pending = gateway.client.chat.completions
      .create({ model: 'patient', messages }, { signal: controller.signal })
      .catch((error: unknown) => error)
    while (a.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    await new Promise((resolve) => setTimeout(resolve, 100))
    controller.abort()
    assert.ok((await pending) instanceof Error)
    // The retry was due after 1 s and the fallback after that: wait past both.
    await new Promise((resolve) => setTimeout(resolve, 1300))
    assert.equal(a.requests.length, 1)
    assert.equal(b.requests.length, 0)
  })
})
