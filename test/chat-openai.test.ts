import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  type FakeUpstream,
  sendEvents,
  sendJson,
  startFakeUpstream,
} from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'
import { completion, streamEvents } from './helpers/openai-fixtures.ts'

describe('chat completions through an OpenAI-compatible upstream', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway

  before(async () => {
    upstream = await startFakeUpstream(() => {})
    gateway = await startTestGateway(`
providers:
  vllm: { kind: openai, base_url: "${upstream.url}/v1", api_key: sk-upstream-secret-123456 }
  claude-gateway: { kind: openai, base_url: "${upstream.url}/v1", anthropic_fields: forward }
  demo: { kind: mock }
models:
  - { id: albert-small, type: text-generation, aliases: [small], max_context_length: 32768, costs: { prompt_tokens: 0.15, completion_tokens: 0.6 }, route: { provider: vllm, model: meta-llama/Llama-3.1-8B-Instruct } }
  - { id: albert-vision, type: image-text-to-text, route: { provider: vllm } }
  - { id: mock-echo, type: text-generation, route: { provider: demo } }
  - { id: embeddings-small, type: text-embeddings-inference, route: { provider: vllm } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  test('unstreamed: swaps the model upstream, passes other parameters, answers with the asked model', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, completion('llama-3.1-8b-upstream-name', 'Hi there')),
    )
    const { data, response } = await gateway.client.chat.completions
      .create({
        model: 'small',
        messages: [{ role: 'user', content: 'Hi!' }],
        temperature: 0.3,
        n: 1,
        response_format: { type: 'json_object' },
        // @ts-expect-error: an unknown parameter must pass through to compatible servers untouched
        top_k: 5,
      })
      .withResponse()
    assert.equal(data.choices[0]?.message.content, 'Hi there')
    assert.equal(data.model, 'small')
    assert.deepEqual(data.usage, { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 })
    assert.equal(response.headers.get('x-switchyard-provider'), 'vllm')
    assert.equal(response.headers.get('x-switchyard-model'), 'meta-llama/Llama-3.1-8B-Instruct')
    assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
    const sent = upstream.requests.at(-1)!
    assert.equal(sent.path, '/v1/chat/completions')
    assert.equal(sent.headers.authorization, 'Bearer sk-upstream-secret-123456')
    assert.deepEqual(sent.body, {
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      messages: [{ role: 'user', content: 'Hi!' }],
      temperature: 0.3,
      n: 1,
      response_format: { type: 'json_object' },
      top_k: 5,
    })
  })

  test('the body goes upstream as the client wrote it, with only the top-level model swapped', async () => {
    upstream.handle((_request, response) => sendJson(response, 200, completion('m', 'ok')))
    const post = (body: string) =>
      fetch(`${gateway.baseURL}/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${gateway.client.apiKey}`,
          'content-type': 'application/json',
        },
        body,
      })
    // Key order, spacing, escapes and a seed beyond double precision, as a client may write them;
    // "model" also names a nested tool parameter, which stays as it is.
    const tail = `,\n  "seed": 12345678901234567890, "metadata": {"model": "small"},
  "tools": [{"type": "function", "function": {"name": "pick", "parameters":
    {"type": "object", "properties": {"model": {"type": "string"}}}}}]}`
    // An escaped quote and "model" inside a message's text, and a \u escape, as JSON text.
    const head = String.raw`{ "messages": [ {"role": "user", "content": "caf\u00e9 \"model\": \"small\""} ],`
    assert.equal((await post(`${head}\n  "model" :  "small"${tail}`)).status, 200)
    assert.equal(
      upstream.requests.at(-1)!.text,
      `${head}\n  "model" :  "meta-llama/Llama-3.1-8B-Instruct"${tail}`,
    )
    // Raw UTF-8 in the body reaches the upstream as the client wrote it, only the model replaced.
    const utf8 = '{"messages":[{"role":"user","content":"café ☕ 𝄞"}], "model":"small"}'
    assert.equal((await post(utf8)).status, 200)
    assert.equal(
      upstream.requests.at(-1)!.text,
      utf8.replace('"small"', '"meta-llama/Llama-3.1-8B-Instruct"'),
    )
    // A top-level model written twice (once with an escape) could be read either way upstream:
    // the request is serialised again, so the upstream sees the route's model and nothing else.
    assert.equal(
      (
        await post(
          '{"model":"small","mod\\u0065l":"small","messages":[{"role":"user","content":"x"}]}',
        )
      ).status,
      200,
    )
    const twice = upstream.requests.at(-1)!
    assert.equal(twice.text, JSON.stringify(twice.body))
    assert.deepEqual(twice.body, {
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      messages: [{ role: 'user', content: 'x' }],
    })
  })

  test('unstreamed: n > 1 and tool calls pass through both ways', async () => {
    const toolCall = {
      id: 'call_1',
      type: 'function' as const,
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    }
    upstream.handle((_request, response) =>
      sendJson(response, 200, {
        ...completion('x', ''),
        choices: [0, 1].map((index) => ({
          index,
          message: { role: 'assistant', content: null, tool_calls: [toolCall], refusal: null },
          finish_reason: 'tool_calls',
          logprobs: null,
        })),
      }),
    )
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ]
    const result = await gateway.client.chat.completions.create({
      model: 'albert-small',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      n: 2,
      tools,
      tool_choice: 'auto',
    })
    assert.equal(result.choices.length, 2)
    assert.deepEqual(result.choices[1]?.message.tool_calls, [toolCall])
    assert.equal(result.choices[1]?.finish_reason, 'tool_calls')
    const sent = upstream.requests.at(-1)!.body as Record<string, unknown>
    assert.deepEqual(sent.tools, tools)
    assert.equal(sent.n, 2)
    assert.equal(sent.tool_choice, 'auto')
  })

  test('Anthropic-only fields (cache_control, thinking_blocks) are dropped and named, unless forwarded', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, completion('llama-3.1-8b-upstream-name', 'Done')),
    )
    const assistant = {
      role: 'assistant' as const,
      content: 'Checking.',
      reasoning_content: 'thought',
      thinking_blocks: [{ type: 'thinking', thinking: 'thought', signature: 'sig' }],
    }
    const request = {
      cache_control: { type: 'ephemeral' },
      messages: [
        { role: 'system' as const, content: 'Be brief.', cache_control: { type: 'ephemeral' } },
        {
          role: 'user' as const,
          content: [{ type: 'text' as const, text: 'Hi', cache_control: { type: 'ephemeral' } }],
        },
        assistant,
        { role: 'user' as const, content: 'And?' },
      ],
      tools: [
        {
          type: 'function' as const,
          function: { name: 'f', parameters: { type: 'object' } },
          cache_control: { type: 'ephemeral' },
        },
      ],
    }
    const { response } = await gateway.client.chat.completions
      .create({ model: 'small', ...request } as never)
      .withResponse()
    assert.equal(
      response.headers.get('x-switchyard-dropped-params'),
      'cache_control,thinking_blocks',
    )
    const sent = upstream.requests.at(-1)!.body as {
      messages: Record<string, unknown>[]
      tools: Record<string, unknown>[]
      cache_control?: unknown
    }
    assert.equal(sent.cache_control, undefined, 'the request-level breakpoint is dropped too')
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: 'Checking.', reasoning_content: 'thought' },
      { role: 'user', content: 'And?' },
    ])
    assert.deepEqual(sent.tools, [
      { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
    ])

    const forwarded = await gateway.client.chat.completions
      .create({ model: 'small', ...request } as never, {
        headers: { 'x-switchyard-config': '{"provider": "claude-gateway"}' },
      })
      .withResponse()
    assert.equal(forwarded.response.headers.get('x-switchyard-dropped-params'), null)
    const passed = upstream.requests.at(-1)!.body as typeof sent
    assert.deepEqual(passed.messages, JSON.parse(JSON.stringify(request.messages)))
    assert.deepEqual(passed.tools, request.tools)
    assert.deepEqual(passed.cache_control, request.cache_control)
  })

  test('streamed: chunks arrive in order with the asked model, and usage is stripped when not asked for', async () => {
    upstream.handle((_request, response) =>
      sendEvents(response, streamEvents('upstream-model', ['Hello', ' world'], true)),
    )
    const stream = await gateway.client.chat.completions.create({
      model: 'albert-small',
      messages: [{ role: 'user', content: 'Hi!' }],
      stream: true,
    })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]?.delta.content),
      ['', 'Hello', ' world', undefined],
    )
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant')
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'stop')
    assert.ok(chunks.every((chunk) => chunk.model === 'albert-small' && chunk.usage === undefined))
    // The gateway asks for usage even when the client did not, to count the request.
    const sent = upstream.requests.at(-1)!.body as Record<string, unknown>
    assert.deepEqual(sent.stream_options, { include_usage: true })
    assert.equal(sent.stream, true)
  })

  test('streamed: usage chunk is relayed when the client asks for it', async () => {
    upstream.handle((_request, response) =>
      sendEvents(response, streamEvents('upstream-model', ['Hi'], true)),
    )
    const stream = await gateway.client.chat.completions.create({
      model: 'albert-small',
      messages: [{ role: 'user', content: 'Hi!' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const last = chunks.at(-1)!
    assert.deepEqual(last.choices, [])
    assert.deepEqual(last.usage, { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 })
  })

  test('streamed: raw SSE framing is text/event-stream ending in [DONE], chunks forwarded as they arrive', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    upstream.handle(async (_request, response) => {
      const events = streamEvents('m', ['first', 'second'], false)
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.write(`data: ${JSON.stringify(events[0]!.data)}\n\n`)
      response.write(`data: ${JSON.stringify(events[1]!.data)}\n\n`)
      await held
      for (const event of events.slice(2)) {
        response.write(
          `data: ${typeof event.data === 'string' ? event.data : JSON.stringify(event.data)}\n\n`,
        )
      }
      response.end()
    })
    const response = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gateway.client.apiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'albert-small',
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      }),
    })
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    // The first chunks reach the client while the upstream is still holding the rest.
    while (!text.includes('"first"')) text += decoder.decode((await reader.read()).value)
    release()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += decoder.decode(value)
    }
    assert.ok(text.endsWith('data: [DONE]\n\n'))
    assert.equal(text.match(/^data: /gm)?.length, 5)
  })

  test('mock provider: the README snippet, streamed and unstreamed, through the SDK', async () => {
    const models = (await gateway.client.models.list()).data as unknown as {
      id: string
      type: string
    }[]
    const model = models.find((entry) =>
      ['text-generation', 'image-text-to-text'].includes(entry.type),
    )!.id
    assert.equal(model, 'albert-small')
    const reply = await gateway.client.chat.completions.create({
      model: 'mock-echo',
      messages: [{ role: 'user', content: 'Hi there gateway' }],
    })
    assert.equal(reply.choices[0]?.message.content, 'Hi there gateway')
    assert.ok((reply.usage?.completion_tokens ?? 0) > 0)
    const stream = await gateway.client.chat.completions.create({
      model: 'mock-echo',
      messages: [{ role: 'user', content: 'Hi there gateway' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: unknown
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      usage ??= chunk.usage
    }
    assert.equal(text, 'Hi there gateway')
    assert.deepEqual(usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 })
  })

  test('models: list carries types and catalog fields; aliases resolve; keys see only allowed models', async () => {
    const list = await gateway.client.models.list()
    const entries = list.data as unknown as Record<string, unknown>[]
    assert.deepEqual(
      entries.map((entry) => [entry.id, entry.type]),
      [
        ['albert-small', 'text-generation'],
        ['albert-vision', 'image-text-to-text'],
        ['mock-echo', 'text-generation'],
        ['embeddings-small', 'text-embeddings-inference'],
      ],
    )
    const small = entries[0]!
    assert.equal(small.object, 'model')
    assert.equal(small.owned_by, 'vllm')
    assert.deepEqual(small.aliases, ['small'])
    assert.equal(small.max_context_length, 32768)
    assert.deepEqual(small.costs, { prompt_tokens: 0.15, completion_tokens: 0.6 })
    assert.equal(typeof small.created, 'number')
    const byAlias = await gateway.client.models.retrieve('small')
    assert.equal(byAlias.id, 'albert-small')
    const bob = gateway.clientFor('sk-test-bob-0123456789abcdefgh')
    assert.deepEqual(
      (await bob.models.list()).data.map((entry) => entry.id),
      ['mock-echo'],
    )
  })
})
