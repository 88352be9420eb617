import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { routingOptions, Switchyard } from 'switchyard/client'
import { runCli } from './helpers/cli.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import {
  type ScriptedUpstream,
  startScriptedUpstream,
  status,
} from './helpers/scripted-upstream.ts'

const messages = [{ role: 'user' as const, content: 'Hi' }]

describe('switchyard/client', () => {
  let a: ScriptedUpstream
  let b: ScriptedUpstream
  let gateway: TestGateway

  before(async () => {
    ;[a, b] = await Promise.all([startScriptedUpstream('a'), startScriptedUpstream('b')])
    gateway = await startTestGateway(`
providers:
  a: { kind: openai, base_url: "${a.url}/v1" }
  b: { kind: openai, base_url: "${b.url}/v1" }
configs:
  to-b: { provider: b }
models:
  - id: small
    type: text-generation
    route:
      strategy: { mode: conditional, conditions: [{ query: { metadata.tier: pro }, then: pro }], default: free }
      targets: [{ name: pro, provider: b, model: pro-model }, { name: free, provider: a, model: free-model }]
`)
  })
  after(async () => {
    await gateway.stop(0)
    await Promise.all([a.close(), b.close()])
  })

  test('config, metadata and trace id per client, per withOptions and per call', async () => {
    const client = new Switchyard({
      baseURL: gateway.baseURL,
      apiKey: testKey,
      maxRetries: 0,
      config: 'to-b',
      traceId: 'client-trace',
    })
    const first = await client.chat.completions.create({ model: 'small', messages }).withResponse()
    assert.equal(first.data.choices[0]?.message.content, 'from b')
    assert.equal(first.response.headers.get('x-request-id'), 'client-trace')

    const noConfig = new Switchyard({ baseURL: gateway.baseURL, apiKey: testKey, maxRetries: 0 })
    const pro = noConfig.withOptions({ metadata: { tier: 'pro' } })
    const routed = await pro.chat.completions.create({ model: 'small', messages }).withResponse()
    assert.equal(routed.response.headers.get('x-switchyard-model'), 'pro-model')
    const free = await noConfig.chat.completions.create({ model: 'small', messages }).withResponse()
    assert.equal(free.response.headers.get('x-switchyard-model'), 'free-model')

    a.script([status(500)])
    const stream = await noConfig.chat.completions.create(
      { model: 'small', messages, stream: true },
      routingOptions({
        config: { strategy: { mode: 'fallback' }, targets: [{ provider: 'a' }, { provider: 'b' }] },
      }),
    )
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    assert.equal(text, 'fromb')
  })
})

describe('switchyard check and route configs', () => {
  test('reports routing problems with their path and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-routing-'))
    const file = join(dir, 'switchyard.yaml')
    writeFileSync(
      file,
      `providers:
  a: { kind: openai, base_url: "http://127.0.0.1:8000/v1" }
configs:
  resilient:
    strategy: { mode: fallback }
    targets:
      - strategy: { mode: loadbalance }
        targets: [{ provider: a }, { provider: ghost, weight: 2 }]
      - { provider: a, cache: { mode: simple } }
models:
  - { id: one, type: text-generation, route: missing-config }
  - { id: two, type: text-generation, route: resilient }
  - id: three
    type: text-generation
    route: { strategy: { mode: fallback }, targets: [{ virtual_key: nope }] }
`,
    )
    const result = runCli(['check', '--config', file])
    assert.equal(result.status, 2, result.stderr)
    const expected = [
      /configs\.resilient\.targets\[0\]\.targets\[1\]\.provider \(line 8:\d+\): unknown provider "ghost"/,
      /configs\.resilient\.targets\[1\]\.cache \(line 9:\d+\): cache applies to the whole config: set it at the top level/,
      /models\[0\]\.route \(line 11:\d+\): no saved config "missing-config"/,
      /models\[2\]\.route\.targets\[0\]\.virtual_key \(line 15:\d+\): unknown provider "nope"/,
    ]
    for (const pattern of expected) assert.match(result.stderr, pattern)
    assert.ok(!/models\[1\]/.test(result.stderr), 'a valid saved-config reference is fine')
  })
})
