/**
 * Hostile-input sweep: a valid chat request mutated many ways (fields removed, retyped, nested,
 * oversized, swapped for the values a confused or malicious client sends), sent to every adapter.
 * Each answer must be a success or an OpenAI-shaped error that is not an internal error: a
 * translator that throws on an odd shape is a 500 here and a bug. Seeded, so a failure repeats.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  type FakeUpstream,
  sendEvents,
  sendJson,
  startFakeUpstream,
} from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import { completion, streamEvents } from './helpers/openai-fixtures.ts'

/** mulberry32: a small seeded generator, so every run sends the same requests. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * One model per adapter, all on one fake upstream. The breaker threshold is out of reach: these
 * tests send failures on purpose. The openai model caches, so the cache path is swept too.
 */
function everyAdapter(upstreamUrl: string, geminiModel: string): string {
  return `
routing: { circuit_breaker: { failure_threshold: 100000 } }
providers:
  compatible: { kind: openai, base_url: "${upstreamUrl}/v1" }
  claude: { kind: anthropic, base_url: "${upstreamUrl}", api_key: sk-ant-test }
  gemini: { kind: gemini, base_url: "${upstreamUrl}/v1beta", api_key: g-test }
  azure: { kind: azure-openai, base_url: "${upstreamUrl}", api_key: az-test }
models:
  - { id: compatible, type: text-generation, route: { provider: compatible, cache: { mode: simple } } }
  - { id: claude, type: text-generation, route: { provider: claude, model: claude-sonnet-4-5 } }
  - { id: gemini, type: text-generation, route: { provider: gemini, model: ${geminiModel} } }
  - { id: azure, type: text-generation, route: { provider: azure } }
`
}

/** Anthropic's answer to every request that reaches the fake Claude. */
const claudeMessage = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude',
  content: [{ type: 'text', text: 'ok' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 3, output_tokens: 1 },
}

const oddValues: unknown[] = [
  null,
  0,
  -1,
  1e308,
  '',
  'x'.repeat(5000),
  '\u0000\ud800',
  true,
  [],
  [null],
  [{}],
  {},
  { type: 'text' },
  { type: 'image_url', image_url: { url: 'data:image/png;base64,@@@' } },
  { type: 'ephemeral' },
  { cache_control: { type: 'forever' } },
  [{ type: 'thinking' }],
  { __proto__: { polluted: true } },
]

const base = () => ({
  model: 'MODEL',
  messages: [
    {
      role: 'system',
      content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Hi' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
      ],
      thinking_blocks: [{ type: 'thinking', thinking: 't', signature: 's' }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'done' },
  ],
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
  tool_choice: 'auto',
  response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' } } },
  reasoning_effort: 'low',
  stop: ['\n'],
  max_tokens: 64,
  web_search_options: {},
  cache_control: { type: 'ephemeral' },
  stream: false,
})

/** Every object and array on the path to a value, so a mutation can land anywhere. */
function containers(value: unknown, found: (Record<string, unknown> | unknown[])[] = []) {
  if (value !== null && typeof value === 'object') {
    found.push(value as Record<string, unknown>)
    for (const child of Object.values(value)) containers(child, found)
  }
  return found
}

function mutate(request: Record<string, unknown>, next: () => number): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  for (let count = 1 + Math.floor(next() * 3); count > 0; count--) {
    const target = pick(containers(request))
    const keys = Object.keys(target)
    if (keys.length === 0) continue
    const key = pick(keys)
    const roll = next()
    if (roll < 0.3) delete (target as Record<string, unknown>)[key]
    else (target as Record<string, unknown>)[key] = structuredClone(pick(oddValues))
  }
}

describe('hostile request bodies', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway

  before(async () => {
    // Each provider's answer, unstreamed and streamed, in its own wire format.
    const geminiAnswer = {
      candidates: [
        { content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP', index: 0 },
      ],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
    }
    upstream = await startFakeUpstream((request, response) => {
      const body = request.body as { stream?: unknown } | string
      const streamed =
        request.path.includes('streamGenerateContent') ||
        (typeof body === 'object' && body.stream === true)
      if (request.path.includes('/messages')) {
        if (!streamed) return sendJson(response, 200, claudeMessage)
        return sendEvents(response, [
          {
            event: 'message_start',
            data: { type: 'message_start', message: { ...claudeMessage, content: [] } },
          },
          {
            event: 'content_block_start',
            data: {
              type: 'content_block_start',
              index: 0,
              content_block: { type: 'text', text: '' },
            },
          },
          {
            event: 'content_block_delta',
            data: {
              type: 'content_block_delta',
              index: 0,
              delta: { type: 'text_delta', text: 'ok' },
            },
          },
          { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
          {
            event: 'message_delta',
            data: {
              type: 'message_delta',
              delta: { stop_reason: 'end_turn', stop_sequence: null },
              usage: { output_tokens: 1 },
            },
          },
          { event: 'message_stop', data: { type: 'message_stop' } },
        ])
      }
      if (/:(stream)?[gG]enerateContent/.test(request.path)) {
        return streamed
          ? sendEvents(response, [{ data: geminiAnswer }])
          : sendJson(response, 200, geminiAnswer)
      }
      if (!streamed) return sendJson(response, 200, completion('m', 'ok'))
      return sendEvents(response, [...streamEvents('m', ['ok'], true)])
    })
    gateway = await startTestGateway(everyAdapter(upstream.url, 'gemini-3-flash'))
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  test('never an internal error, always an OpenAI-shaped answer', async () => {
    const next = random(20261125)
    const failures: string[] = []
    for (let round = 0; round < 120; round++) {
      for (const model of ['compatible', 'claude', 'gemini', 'azure']) {
        const request: Record<string, unknown> = { ...base(), model }
        mutate(request, next)
        if (next() < 0.3) request.stream = true
        const response = await fetch(`${gateway.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(request),
        })
        const text = await response.text()
        const streamed = (response.headers.get('content-type') ?? '').includes('event-stream')
        if (
          response.status === 200 &&
          (streamed ? text.includes('data: ') : text.startsWith('{'))
        ) {
          if (streamed && text.includes('"internal_error"')) failures.push(`${model}: ${text}`)
          continue
        }
        let code: unknown
        try {
          code = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error?.code
        } catch {
          code = undefined
        }
        if (response.status >= 500 || typeof code !== 'string') {
          failures.push(
            `${model} ${response.status} ${text.slice(0, 300)}\n  ${JSON.stringify(request)}`,
          )
        }
      }
    }
    assert.deepEqual(failures, [])
  })
})

test("a body an adapter cannot read is the client's 400, and never opens the target's breaker", async () => {
  const upstream = await startFakeUpstream((_request, response) =>
    sendJson(response, 200, claudeMessage),
  )
  const gateway = await startTestGateway(`
routing: { circuit_breaker: { failure_threshold: 2 } }
providers: { claude: { kind: anthropic, base_url: "${upstream.url}", api_key: sk-ant-test } }
models: [ { id: claude, type: text-generation, route: { provider: claude } } ]
`)
  try {
    const post = (messages: unknown[]) =>
      fetch(`${gateway.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude', messages }),
      })
    for (let index = 0; index < 4; index++) {
      const broken = await post([{ role: 'assistant', content: null, tool_calls: [null] }])
      assert.equal(broken.status, 400)
      const body = (await broken.json()) as { error: { code: string; message: string } }
      assert.equal(body.error.code, 'invalid_request')
      assert.match(body.error.message, /provider 'claude' cannot read/)
    }
    assert.equal(upstream.requests.length, 0)
    // Four failures against a threshold of two: a breaker that counted them would answer 503.
    const valid = await post([{ role: 'user', content: 'Hi' }])
    assert.equal(valid.status, 200)
  } finally {
    await gateway.stop(0)
    await upstream.close()
  }
})

describe('hostile upstream answers', () => {
  // A valid answer per wire format, then mutated: a broken upstream must come out as an
  // OpenAI-shaped error (or a usable answer), never an internal error, a crash or a hang.
  const openaiAnswer = completion('m', 'ok')
  const geminiAnswer = {
    candidates: [
      { content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP', index: 0 },
    ],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
  }
  let upstream: FakeUpstream
  let gateway: TestGateway
  let next = random(7)
  let answerFor: (path: string, streamed: boolean) => { events?: unknown[]; json?: unknown }

  before(async () => {
    upstream = await startFakeUpstream((request, response) => {
      const body = request.body as { stream?: unknown } | null
      const streamed =
        request.path.includes('streamGenerateContent') ||
        (body !== null && typeof body === 'object' && body.stream === true)
      const answer = answerFor(request.path, streamed)
      if (answer.events !== undefined) {
        return sendEvents(
          response,
          answer.events.map((data) => ({ data })),
        )
      }
      sendJson(response, 200, answer.json)
    })
    gateway = await startTestGateway(everyAdapter(upstream.url, 'gemini-2.5-flash'))
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  test('never an internal error: broken answers become upstream errors', async () => {
    next = random(20261126)
    const mutated = <T>(value: T): T => {
      const copy = structuredClone(value) as Record<string, unknown>
      mutate(copy, next)
      return copy as T
    }
    answerFor = (path, streamed) => {
      if (path.includes('/messages')) {
        if (!streamed) return { json: mutated(claudeMessage) }
        return {
          events: [
            { type: 'message_start', message: { ...claudeMessage, content: [] } },
            { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
            { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } },
            { type: 'content_block_stop', index: 0 },
            {
              type: 'message_delta',
              delta: { stop_reason: 'end_turn' },
              usage: { output_tokens: 1 },
            },
            { type: 'message_stop' },
          ].map((event) => (next() < 0.3 ? mutated(event) : event)),
        }
      }
      if (/:(stream)?[gG]enerateContent/.test(path)) {
        return streamed ? { events: [mutated(geminiAnswer)] } : { json: mutated(geminiAnswer) }
      }
      if (!streamed) return { json: mutated(openaiAnswer) }
      return {
        events: streamEvents('m', ['o', 'k'], true).map((event) =>
          next() < 0.3 && typeof event.data === 'object' ? mutated(event.data) : event.data,
        ),
      }
    }
    const failures: string[] = []
    for (let round = 0; round < 80; round++) {
      for (const model of ['compatible', 'claude', 'gemini']) {
        const stream = next() < 0.5
        const response = await fetch(`${gateway.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }], stream }),
          signal: AbortSignal.timeout(5000),
        })
        const text = await response.text()
        if (response.status === 500 || text.includes('"internal_error"')) {
          failures.push(`${model} stream=${stream} ${response.status} ${text.slice(0, 400)}`)
        }
      }
    }
    assert.deepEqual(failures, [])
  })
})
