/**
 * End to end: the official `openai` SDK calls the gateway, which calls a fake Anthropic server
 * speaking the Messages API wire format; the fake records what it received.
 */
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import { fixtureJson, fixtureText } from './anthropic/fixtures.ts'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'

const apiKey = 'sk-ant-api03-upstream-secret-0123456789'
const errors = fixtureJson<Record<string, { status: number; body: unknown }>>('errors.json')

/** Writes a raw SSE fixture one event per write, as Anthropic does. */
async function sendFixtureStream(response: ServerResponse, name: string): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const event of fixtureText(name).split('\n\n')) {
    if (event.trim().length === 0) continue
    response.write(`${event}\n\n`)
    await new Promise((resolve) => setImmediate(resolve))
  }
  response.end()
}

function message(
  content: unknown[],
  stopReason = 'end_turn',
  usage = { input_tokens: 10, output_tokens: 4 },
) {
  return {
    id: 'msg_e2e',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  }
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return chunks
}

describe('kind: anthropic through the openai SDK', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway

  before(async () => {
    upstream = await startFakeUpstream(() => {})
    gateway = await startTestGateway(`
# These tests replay upstream failures on one target on purpose: keep its breaker closed.
routing: { circuit_breaker: { failure_threshold: 1000 } }
providers:
  claude: { kind: anthropic, base_url: "${upstream.url}", api_key: ${apiKey}, headers: { anthropic-beta: test-beta } }
  claude-cached: { kind: anthropic, base_url: "${upstream.url}", api_key: ${apiKey}, prompt_caching: auto }
  claude-cached-1h: { kind: anthropic, base_url: "${upstream.url}", api_key: ${apiKey}, prompt_caching: auto, prompt_cache_ttl: 1h }
models:
  - { id: claude-sonnet, type: text-generation, aliases: [sonnet], route: { provider: claude, model: claude-sonnet-4-5 } }
  - { id: claude-cached, type: text-generation, route: { provider: claude-cached, model: claude-sonnet-4-5 } }
  - { id: claude-cached-1h, type: text-generation, route: { provider: claude-cached-1h, model: claude-sonnet-4-5 } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  const lastSent = () => upstream.requests.at(-1)!
  /** The upstream answers with a cache read and write in its usage. */
  const answerCached = (tokens: { input: number; read: number; written: number }) =>
    upstream.handle((_request, response) =>
      sendJson(
        response,
        200,
        message([{ type: 'text', text: 'Cached.' }], 'end_turn', {
          input_tokens: tokens.input,
          output_tokens: 3,
          cache_read_input_tokens: tokens.read,
          cache_creation_input_tokens: tokens.written,
        } as never),
      ),
    )

  test('plain chat with a system prompt and several turns: headers, path, body and answer', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, JSON.parse(fixtureText('message.json'))),
    )
    const completion = await gateway.client.chat.completions.create({
      model: 'sonnet',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi.' },
        { role: 'user', content: 'Who are you?' },
      ],
    })
    assert.equal(completion.id, 'chatcmpl-msg_013Zva2CMHLNnXjNJJKqJ2EF')
    assert.equal(completion.model, 'sonnet')
    assert.equal(completion.object, 'chat.completion')
    assert.equal(completion.choices[0]!.message.content, 'Hi! My name is Claude.')
    assert.equal(completion.choices[0]!.finish_reason, 'stop')
    assert.deepEqual(completion.usage, {
      prompt_tokens: 5146,
      completion_tokens: 503,
      total_tokens: 5649,
      prompt_tokens_details: { cached_tokens: 1000 },
    })
    const sent = lastSent()
    assert.equal(sent.method, 'POST')
    assert.equal(sent.path, '/v1/messages')
    assert.equal(sent.headers['x-api-key'], apiKey)
    assert.equal(sent.headers['anthropic-version'], '2023-06-01')
    assert.equal(sent.headers['anthropic-beta'], 'test-beta')
    assert.equal(sent.headers['content-type'], 'application/json')
    assert.equal(sent.headers.authorization, undefined)
    assert.deepEqual(sent.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'You are terse.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Hi.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Who are you?' }] },
      ],
    })
  })

  test('image input: a data URL is sent as base64, an http URL as a URL source', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, message([{ type: 'text', text: 'Two cats' }])),
    )
    await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
            { type: 'image_url', image_url: { url: 'http://images.example.com/cat.png' } },
          ],
        },
      ],
    })
    assert.deepEqual((lastSent().body as { messages: unknown[] }).messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          {
            type: 'image',
            source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' },
          },
          { type: 'image', source: { type: 'url', url: 'http://images.example.com/cat.png' } },
        ],
      },
    ])
  })

  const tools: OpenAI.ChatCompletionTool[] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: {
          type: 'object',
          properties: { location: { type: 'string' } },
          required: ['location'],
        },
      },
    },
  ]

  test('parallel tool calls, then their results, unstreamed', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, JSON.parse(fixtureText('tool-use.json'))),
    )
    const first = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Weather in SF and Paris?' }],
      tools,
      tool_choice: 'required',
      parallel_tool_calls: true,
    })
    const reply = first.choices[0]!.message
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls')
    assert.equal(reply.tool_calls?.length, 2)
    const sentTools = lastSent().body as Record<string, unknown>
    assert.deepEqual(sentTools.tool_choice, { type: 'any' })
    assert.deepEqual(sentTools.tools, [
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: {
          type: 'object',
          properties: { location: { type: 'string' } },
          required: ['location'],
        },
      },
    ])

    upstream.handle((_request, response) =>
      sendJson(response, 200, message([{ type: 'text', text: 'SF 15°C, Paris 20°C.' }])),
    )
    const calls = reply.tool_calls!.filter((call) => call.type === 'function')
    const second = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [
        { role: 'user', content: 'Weather in SF and Paris?' },
        { role: 'assistant', content: reply.content, tool_calls: calls },
        { role: 'tool', tool_call_id: calls[0]!.id, content: '15°C' },
        { role: 'tool', tool_call_id: calls[1]!.id, content: '20°C' },
      ],
      tools,
    })
    assert.equal(second.choices[0]!.message.content, 'SF 15°C, Paris 20°C.')
    assert.deepEqual((lastSent().body as { messages: unknown[] }).messages.slice(1), [
      {
        role: 'assistant',
        content: [
          { type: 'text', text: "I'll check the current weather in both cities." },
          {
            type: 'tool_use',
            id: 'toolu_01A09q90qw90lq917835lq9',
            name: 'get_weather',
            input: { location: 'San Francisco, CA', unit: 'celsius' },
          },
          {
            type: 'tool_use',
            id: 'toolu_02B19r91rw91mr928946mr0',
            name: 'get_weather',
            input: { location: 'Paris, France' },
          },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '15°C' },
          { type: 'tool_result', tool_use_id: 'toolu_02B19r91rw91mr928946mr0', content: '20°C' },
        ],
      },
    ])
  })

  test('a single tool call, with parallel calls disabled', async () => {
    upstream.handle((_request, response) =>
      sendJson(
        response,
        200,
        message(
          [
            {
              type: 'tool_use',
              id: 'toolu_single',
              name: 'get_weather',
              input: { location: 'Oslo' },
            },
          ],
          'tool_use',
        ),
      ),
    )
    const completion = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools,
      parallel_tool_calls: false,
    })
    assert.deepEqual(completion.choices[0]!.message.tool_calls, [
      {
        id: 'toolu_single',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Oslo"}' },
      },
    ])
    assert.equal(completion.choices[0]!.message.content, null)
    assert.deepEqual((lastSent().body as Record<string, unknown>).tool_choice, {
      type: 'auto',
      disable_parallel_tool_use: true,
    })
  })

  test('streamed parallel tool calls reassemble into the same calls', async () => {
    upstream.handle((_request, response) => sendFixtureStream(response, 'tool-use.stream.txt'))
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'claude-sonnet',
        messages: [{ role: 'user', content: 'Weather in SF and Paris?' }],
        tools,
        stream: true,
      }),
    )
    const calls: { id?: string; name?: string; arguments: string }[] = []
    for (const chunk of chunks) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        calls[call.index] ??= { arguments: '' }
        const entry = calls[call.index]!
        if (call.id) entry.id = call.id
        if (call.function?.name) entry.name = call.function.name
        entry.arguments += call.function?.arguments ?? ''
      }
    }
    assert.deepEqual(calls, [
      {
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        arguments: '{"location": "San Francisco, CA"}',
      },
      {
        id: 'toolu_02Hq8fbEjxGkTjN7Y3ud1ay9',
        name: 'get_weather',
        arguments: '{"location": "Paris"}',
      },
    ])
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls')
    assert.equal((lastSent().body as Record<string, unknown>).stream, true)
  })

  test('JSON schema output: strict schemas use structured outputs; json_object answers through the JSON tool', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    }
    upstream.handle((_request, response) =>
      sendJson(response, 200, message([{ type: 'text', text: '{"city":"Paris"}' }])),
    )
    const strict = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Capital of France?' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema, strict: true },
      },
    })
    assert.deepEqual(JSON.parse(strict.choices[0]!.message.content!), { city: 'Paris' })
    assert.deepEqual((lastSent().body as Record<string, unknown>).output_config, {
      format: { type: 'json_schema', schema },
    })

    upstream.handle((_request, response) =>
      sendJson(
        response,
        200,
        message(
          [{ type: 'tool_use', id: 'toolu_json', name: 'json_response', input: { city: 'Rome' } }],
          'tool_use',
        ),
      ),
    )
    const loose = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Capital of Italy, as JSON?' }],
      response_format: { type: 'json_object' },
    })
    assert.equal(loose.choices[0]!.message.content, '{"city":"Rome"}')
    assert.equal(loose.choices[0]!.finish_reason, 'stop')
    assert.equal(loose.choices[0]!.message.tool_calls, undefined)
    assert.deepEqual((lastSent().body as Record<string, unknown>).tool_choice, {
      type: 'tool',
      name: 'json_response',
    })
  })

  test('stop sequences are sent; a max-tokens cut-off finishes with length', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, JSON.parse(fixtureText('max-tokens.json'))),
    )
    const completion = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Tell a story' }],
      max_completion_tokens: 10,
      stop: ['THE END', '\n\n\n'],
      temperature: 1.5,
    })
    assert.equal(completion.choices[0]!.finish_reason, 'length')
    const sent = lastSent().body as Record<string, unknown>
    assert.equal(sent.max_tokens, 10)
    assert.deepEqual(sent.stop_sequences, ['THE END'])
    assert.equal(sent.temperature, 1)
  })

  test('streamed text: usage is recorded but not sent unless asked; sent last when asked', async () => {
    upstream.handle((_request, response) => sendFixtureStream(response, 'text.stream.txt'))
    const plain = await collect(
      await gateway.client.chat.completions.create({
        model: 'claude-sonnet',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
    )
    assert.equal(plain.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), 'Hello!')
    assert.equal(plain[0]!.choices[0]!.delta.role, 'assistant')
    assert.ok(plain.every((chunk) => chunk.usage === undefined && chunk.model === 'claude-sonnet'))
    assert.equal(plain.at(-1)!.choices[0]!.finish_reason, 'stop')

    const withUsage = await collect(
      await gateway.client.chat.completions.create({
        model: 'claude-sonnet',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    )
    const last = withUsage.at(-1)!
    assert.deepEqual(last.choices, [])
    assert.deepEqual(last.usage, {
      prompt_tokens: 25,
      completion_tokens: 15,
      total_tokens: 40,
      prompt_tokens_details: { cached_tokens: 0 },
    })
    assert.equal((lastSent().body as Record<string, unknown>).stream_options, undefined)
  })

  test('streamed thinking arrives as reasoning_content deltas, then once as the whole signed block', async () => {
    upstream.handle((_request, response) => sendFixtureStream(response, 'thinking.stream.txt'))
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'claude-sonnet',
        messages: [{ role: 'user', content: 'GCD of 1071 and 462?' }],
        reasoning_effort: 'medium',
        stream: true,
      }),
    )
    const reasoning = chunks
      .map(
        (chunk) =>
          (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)
            ?.reasoning_content ?? '',
      )
      .join('')
    assert.equal(reasoning, 'I need to find the GCD of 1071 and 462. 1071 = 2 × 462 + 147')
    const blocks = chunks.flatMap(
      (chunk) =>
        (chunk.choices[0]?.delta as { thinking_blocks?: unknown[] } | undefined)?.thinking_blocks ??
        [],
    )
    assert.deepEqual(blocks, [
      {
        type: 'thinking',
        thinking: 'I need to find the GCD of 1071 and 462. 1071 = 2 × 462 + 147',
        signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
      },
    ])
    assert.deepEqual((lastSent().body as Record<string, unknown>).thinking, {
      type: 'enabled',
      budget_tokens: 8192,
    })
  })

  test('prompt caching: cache_control on parts and tools becomes Anthropic cache breakpoints', async () => {
    answerCached({ input: 12, read: 2048, written: 0 })
    const manual = 'A long manual. '.repeat(200)
    const completion = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: manual, cache_control: { type: 'ephemeral' } } as never],
        },
        {
          role: 'user',
          content: [
            {
              type: 'text',
              text: 'Earlier context',
              cache_control: { type: 'ephemeral', ttl: '1h' },
            } as never,
            { type: 'text', text: 'The question' },
          ],
        },
      ],
      tools: [{ ...tools[0]!, cache_control: { type: 'ephemeral' } } as never],
    })
    const body = lastSent().body as {
      system: unknown
      messages: { content: unknown }[]
      tools: Record<string, unknown>[]
    }
    assert.deepEqual(body.system, [
      { type: 'text', text: manual, cache_control: { type: 'ephemeral' } },
    ])
    assert.deepEqual(body.messages[0]!.content, [
      { type: 'text', text: 'Earlier context', cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'text', text: 'The question' },
    ])
    assert.deepEqual(body.tools[0]!.cache_control, { type: 'ephemeral' })
    assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 2048)

    // On the message itself (as some clients put it), the breakpoint marks its last block.
    await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [
        { role: 'system', content: manual, cache_control: { type: 'ephemeral' } } as never,
        { role: 'user', content: 'The question', cache_control: { type: 'ephemeral' } } as never,
      ],
    })
    const marked = lastSent().body as { system: unknown; messages: { content: unknown }[] }
    assert.deepEqual(marked.system, [
      { type: 'text', text: manual, cache_control: { type: 'ephemeral' } },
    ])
    assert.deepEqual(marked.messages[0]!.content, [
      { type: 'text', text: 'The question', cache_control: { type: 'ephemeral' } },
    ])

    const refused = await gateway.client.chat.completions
      .create({
        model: 'claude-sonnet',
        messages: [
          {
            role: 'user',
            content: [{ type: 'text', text: 'x', cache_control: { type: 'forever' } } as never],
          },
        ],
      })
      .catch((error: unknown) => error)
    assert.ok(refused instanceof OpenAI.APIError)
    assert.equal(refused.status, 400)
    assert.equal(
      (refused.error as { param?: string }).param,
      'messages[0].content[0].cache_control',
    )
  })

  test('automatic prompt caching: the request-level breakpoint, from the provider or the client', async () => {
    answerCached({ input: 10, read: 4096, written: 512 })
    const ask = (model: string, extra: Record<string, unknown> = {}, content: unknown = 'Hi') =>
      gateway.client.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: 'A long, stable system prompt.' },
          { role: 'user', content: content as string },
        ],
        ...extra,
      } as never)
    const sentCache = () => (lastSent().body as { cache_control?: unknown }).cache_control

    // prompt_caching: auto puts Anthropic's automatic breakpoint on every request...
    const cached = await ask('claude-cached')
    assert.deepEqual(sentCache(), { type: 'ephemeral' })
    assert.equal(cached.usage?.prompt_tokens, 10 + 4096 + 512)
    assert.equal(cached.usage?.prompt_tokens_details?.cached_tokens, 4096)
    await ask('claude-cached-1h')
    assert.deepEqual(sentCache(), { type: 'ephemeral', ttl: '1h' })
    // ...unless the client placed breakpoints of its own: theirs say what to cache.
    await ask('claude-cached', {}, [
      { type: 'text', text: 'A document.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'The question' },
    ])
    assert.equal(sentCache(), undefined)
    const parts = (lastSent().body as { messages: { content: { cache_control?: unknown }[] }[] })
      .messages[0]!.content
    assert.deepEqual(parts[0]!.cache_control, { type: 'ephemeral' })

    // Off by default; a client asks for it on one request with cache_control on the request.
    await ask('claude-sonnet')
    assert.equal(sentCache(), undefined)
    const { response } = await gateway.client.chat.completions
      .create({
        model: 'claude-sonnet',
        messages: [{ role: 'user', content: 'Hi' }],
        cache_control: { type: 'ephemeral', ttl: '1h' },
      } as never)
      .withResponse()
    assert.deepEqual(sentCache(), { type: 'ephemeral', ttl: '1h' })
    assert.equal(response.headers.get('x-switchyard-dropped-params'), null)

    const refused = await ask('claude-sonnet', { cache_control: { type: 'persistent' } }).catch(
      (error: unknown) => error,
    )
    assert.ok(refused instanceof OpenAI.APIError)
    assert.equal(refused.status, 400)
    assert.equal((refused.error as { param?: string }).param, 'cache_control')
  })

  test('thinking blocks round-trip: a tool loop with thinking on sends the signed blocks back', async () => {
    const thinking = [
      { type: 'thinking', thinking: 'The user wants Paris weather.', signature: 'sig-EqQBCgIYAh' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
    ]
    upstream.handle((_request, response) =>
      sendJson(
        response,
        200,
        message(
          [
            ...thinking,
            { type: 'tool_use', id: 'toolu_t1', name: 'get_weather', input: { location: 'Paris' } },
          ],
          'tool_use',
        ),
      ),
    )
    const first = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools,
      reasoning_effort: 'low',
    })
    const reply = first.choices[0]!.message as (typeof first.choices)[0]['message'] & {
      thinking_blocks?: unknown
      reasoning_content?: string
    }
    assert.deepEqual(reply.thinking_blocks, thinking)
    assert.equal(reply.reasoning_content, 'The user wants Paris weather.')

    upstream.handle((_request, response) =>
      sendJson(response, 200, message([{ type: 'text', text: 'Paris: 20°C.' }])),
    )
    // The assistant message goes back as the SDK returned it, extra fields included.
    await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        reply,
        { role: 'tool', tool_call_id: 'toolu_t1', content: '20°C' },
      ],
      tools,
      reasoning_effort: 'low',
    })
    const sent = (lastSent().body as { messages: { role: string; content: unknown[] }[] }).messages
    assert.deepEqual(sent[1], {
      role: 'assistant',
      content: [
        ...thinking,
        { type: 'tool_use', id: 'toolu_t1', name: 'get_weather', input: { location: 'Paris' } },
      ],
    })

    const broken = await gateway.client.chat.completions
      .create({
        model: 'claude-sonnet',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { ...reply, thinking_blocks: [{ type: 'thinking', thinking: 'no signature' }] } as never,
          { role: 'tool', tool_call_id: 'toolu_t1', content: '20°C' },
        ],
      })
      .catch((error: unknown) => error)
    assert.ok(broken instanceof OpenAI.APIError)
    assert.equal(broken.status, 400)
    assert.equal((broken.error as { param?: string }).param, 'messages[1].thinking_blocks[0]')
  })

  test('a mid-stream overloaded error reaches the client as an error', async () => {
    upstream.handle((_request, response) => sendFixtureStream(response, 'overloaded.stream.txt'))
    const stream = await gateway.client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Story' }],
      stream: true,
    })
    await assert.rejects(collect(stream), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError)
      assert.match(error.message, /Overloaded/)
      return true
    })
  })

  const upstreamFailures: [string, number, Record<string, string>, number, string][] = [
    ['rate_limit_error', 429, { 'retry-after': '17' }, 429, 'rate_limit_error'],
    ['api_error', 500, {}, 502, 'upstream_error'],
    ['overloaded_error', 529, {}, 503, 'overloaded_error'],
    ['invalid_request_error', 400, {}, 400, 'invalid_request_error'],
    ['authentication_error', 401, {}, 502, 'upstream_error'],
  ]
  for (const [name, upstreamStatus, headers, status, type] of upstreamFailures) {
    for (const stream of [false, true]) {
      test(`upstream ${upstreamStatus} ${name} -> ${status} (${stream ? 'streamed' : 'unstreamed'})`, async () => {
        upstream.handle((_request, response) => {
          response.writeHead(upstreamStatus, { 'content-type': 'application/json', ...headers })
          response.end(JSON.stringify(errors[name]!.body))
        })
        const response = await fetch(`${gateway.baseURL}/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${gateway.client.apiKey}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            model: 'claude-sonnet',
            messages: [{ role: 'user', content: 'Hi' }],
            stream,
          }),
        })
        const text = await response.text()
        assert.equal(response.status, status)
        const body = JSON.parse(text) as { error: { type: string; message: string } }
        assert.equal(body.error.type, type)
        assert.doesNotMatch(text, /sk-ant/)
        if (upstreamStatus === 429) assert.equal(response.headers.get('retry-after'), '17')
        if (upstreamStatus === 400) assert.equal(body.error.message, 'max_tokens: Field required')
      })
    }
  }

  test('n > 1 is refused with a 400 before any upstream call', async () => {
    const before = upstream.requests.length
    await assert.rejects(
      gateway.client.chat.completions.create({
        model: 'claude-sonnet',
        messages: [{ role: 'user', content: 'Hi' }],
        n: 3,
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError)
        assert.equal(error.status, 400)
        assert.equal(error.code, 'unsupported_parameter')
        assert.equal(error.param, 'n')
        return true
      },
    )
    assert.equal(upstream.requests.length, before)
  })

  for (const stream of [false, true]) {
    test(`parameters without an Anthropic equivalent are dropped and named in a header (${stream ? 'streamed' : 'unstreamed'})`, async () => {
      upstream.handle((_request, response) =>
        stream
          ? sendFixtureStream(response, 'text.stream.txt')
          : sendJson(response, 200, message([{ type: 'text', text: 'ok' }])),
      )
      const { response } = await gateway.client.chat.completions
        .create({
          model: 'claude-sonnet',
          messages: [{ role: 'user', content: 'Hi' }],
          seed: 42,
          frequency_penalty: 0.5,
          logit_bias: { '1': 2 },
          stream,
        })
        .withResponse()
      assert.equal(
        response.headers.get('x-switchyard-dropped-params'),
        'seed,frequency_penalty,logit_bias',
      )
      const sent = lastSent().body as Record<string, unknown>
      assert.equal(sent.seed, undefined)
      assert.equal(sent.frequency_penalty, undefined)
      if (stream) await response.text()
    })
  }
})
