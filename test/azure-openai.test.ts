import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import {
  asyncFilterChunk,
  azureChunk,
  azureCompletion,
  azureGate,
  azureModel,
  azureUsage,
  azureUsageChunk,
  filterResults,
  promptFilterChunk,
  promptFilterResults,
} from './helpers/azure-fixtures.ts'
import {
  type FakeUpstream,
  type RecordedRequest,
  sendEvents,
  sendJson,
  startFakeUpstream,
} from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'

const azureKey = '0123456789abcdef0123456789abcdef'
const user = (content: string) => ({ role: 'user' as const, content })

describe('kind: azure-openai through the openai SDK', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway
  /** What the fake Azure does with a request that passed the URL and key checks. */
  let answer: (request: RecordedRequest, response: import('node:http').ServerResponse) => unknown

  before(async () => {
    upstream = await startFakeUpstream(() => {})
    upstream.handle(azureGate(azureKey, (request, response) => answer(request, response)))
    gateway = await startTestGateway(`
# These tests replay upstream failures on one target on purpose: keep its breaker closed.
routing: { circuit_breaker: { failure_threshold: 1000 } }
providers:
  azure: { kind: azure-openai, base_url: "${upstream.url}", api_key: ${azureKey}, deployments: { gpt-4o: gpt-4o-prod } }
  azure_preview: { kind: azure-openai, base_url: "${upstream.url}/openai/", api_key: ${azureKey}, api_version: 2025-04-01-preview }
  azure_v1: { kind: azure-openai, base_url: "${upstream.url}/openai/v1", api_key: ${azureKey}, deployments: { gpt-4o: gpt-4o-prod } }
  azure_wrong_key: { kind: azure-openai, base_url: "${upstream.url}", api_key: wrong-${azureKey} }
models:
  - { id: gpt-4o, type: image-text-to-text, route: { provider: azure } }
  - { id: mini, type: text-generation, route: { provider: azure, model: gpt-4o-mini } }
  - { id: preview, type: text-generation, route: { provider: azure_preview, model: o3 } }
  - { id: v1, type: text-generation, route: { provider: azure_v1, model: gpt-4o } }
  - { id: broken-key, type: text-generation, route: { provider: azure_wrong_key } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  const lastSent = () => upstream.requests.at(-1)!
  const lastBody = () => lastSent().body as Record<string, unknown>

  async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
    const chunks: ChatCompletionChunk[] = []
    for await (const chunk of stream) chunks.push(chunk)
    return chunks
  }

  test('plain chat: deployment and api-version in the URL, api-key header, no model in the body', async () => {
    answer = (_request, response) =>
      sendJson(response, 200, azureCompletion({ content: 'Hello from Azure' }))
    const reply = await gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [user('Hi')],
      temperature: 0.2,
    })
    assert.equal(reply.choices[0]?.message.content, 'Hello from Azure')
    assert.equal(reply.model, 'gpt-4o')
    assert.deepEqual(reply.usage, { completion_tokens: 7, prompt_tokens: 19, total_tokens: 26 })
    // Azure's own fields ride along untouched.
    const extra = reply as unknown as Record<string, unknown>
    assert.deepEqual(extra.prompt_filter_results, promptFilterResults)
    const sent = lastSent()
    assert.equal(
      sent.path,
      '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21',
    )
    assert.equal(sent.headers['api-key'], azureKey)
    assert.equal(sent.headers.authorization, undefined)
    assert.deepEqual(sent.body, { messages: [user('Hi')], temperature: 0.2 })
  })

  test('a model without a deployments entry is its own deployment; api_version is configurable; /openai base URLs work', async () => {
    answer = (_request, response) => sendJson(response, 200, azureCompletion({ content: 'ok' }))
    await gateway.client.chat.completions.create({ model: 'mini', messages: [user('x')] })
    assert.equal(
      lastSent().path,
      '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21',
    )
    await gateway.client.chat.completions.create({ model: 'preview', messages: [user('x')] })
    assert.equal(
      lastSent().path,
      '/openai/deployments/o3/chat/completions?api-version=2025-04-01-preview',
    )
    assert.equal('model' in lastBody(), false)
  })

  test('v1 base URL: OpenAI paths, the deployment sent as model, no api-version', async () => {
    upstream.handle((request, response) => {
      assert.equal(request.headers['api-key'], azureKey)
      sendJson(response, 200, azureCompletion({ content: 'v1 says hi' }))
    })
    try {
      const reply = await gateway.client.chat.completions.create({
        model: 'v1',
        messages: [user('x')],
      })
      assert.equal(reply.choices[0]?.message.content, 'v1 says hi')
      assert.equal(lastSent().path, '/openai/v1/chat/completions')
      assert.equal(lastBody().model, 'gpt-4o-prod')
    } finally {
      upstream.handle(azureGate(azureKey, (request, response) => answer(request, response)))
    }
  })

  test('system prompt and multi-turn history pass through in order', async () => {
    answer = (_request, response) => sendJson(response, 200, azureCompletion({ content: 'Paris.' }))
    const messages = [
      { role: 'system' as const, content: 'Answer in one word.' },
      user('Capital of Italy?'),
      { role: 'assistant' as const, content: 'Rome.' },
      user('And of France?'),
    ]
    const reply = await gateway.client.chat.completions.create({ model: 'gpt-4o', messages })
    assert.equal(reply.choices[0]?.message.content, 'Paris.')
    assert.deepEqual(lastBody().messages, messages)
  })

  test('image input: URL and data URL parts reach Azure as sent (Azure fetches URLs itself)', async () => {
    answer = (_request, response) => sendJson(response, 200, azureCompletion({ content: 'A cat.' }))
    const content = [
      { type: 'text' as const, text: 'What is this?' },
      {
        type: 'image_url' as const,
        image_url: { url: 'https://example.com/cat.png', detail: 'low' as const },
      },
      { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ]
    const reply = await gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content }],
    })
    assert.equal(reply.choices[0]?.message.content, 'A cat.')
    assert.deepEqual(lastBody().messages, [{ role: 'user', content }])
  })

  const weatherTool = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  }

  test('tool calls: a single call unstreamed, then the tool result sent back', async () => {
    const call = {
      id: 'call_abc',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    }
    answer = (_request, response) =>
      sendJson(response, 200, azureCompletion({ content: null, tool_calls: [call] }, 'tool_calls'))
    const first = await gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [user('Weather in Paris?')],
      tools: [weatherTool],
      tool_choice: 'required',
    })
    assert.equal(first.choices[0]?.finish_reason, 'tool_calls')
    assert.deepEqual(first.choices[0]?.message.tool_calls, [call])
    assert.deepEqual(lastBody().tools, [weatherTool])
    assert.equal(lastBody().tool_choice, 'required')

    answer = (_request, response) =>
      sendJson(response, 200, azureCompletion({ content: 'It is 18°C in Paris.' }))
    const history = [
      user('Weather in Paris?'),
      {
        role: 'assistant' as const,
        content: null,
        tool_calls: [call as OpenAI.ChatCompletionMessageToolCall],
      },
      { role: 'tool' as const, tool_call_id: 'call_abc', content: '{"celsius":18}' },
    ]
    const second = await gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: history,
      tools: [weatherTool],
    })
    assert.equal(second.choices[0]?.message.content, 'It is 18°C in Paris.')
    assert.deepEqual(lastBody().messages, history)
  })

  test('tool calls: parallel calls streamed in fragments arrive intact', async () => {
    answer = (_request, response) =>
      sendEvents(response, [
        { data: promptFilterChunk },
        {
          data: azureChunk({
            content: null,
            role: 'assistant',
            tool_calls: [
              {
                function: { arguments: '', name: 'get_weather' },
                id: 'call_1',
                index: 0,
                type: 'function',
              },
            ],
          }),
        },
        { data: azureChunk({ tool_calls: [{ function: { arguments: '{"city":' }, index: 0 }] }) },
        { data: azureChunk({ tool_calls: [{ function: { arguments: '"Paris"}' }, index: 0 }] }) },
        {
          data: azureChunk({
            tool_calls: [
              {
                function: { arguments: '', name: 'get_weather' },
                id: 'call_2',
                index: 1,
                type: 'function',
              },
            ],
          }),
        },
        {
          data: azureChunk({
            tool_calls: [{ function: { arguments: '{"city":"Rome"}' }, index: 1 }],
          }),
        },
        { data: azureChunk({}, 'tool_calls') },
        { data: '[DONE]' },
      ])
    const stream = gateway.client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [user('Weather in Paris and Rome?')],
      tools: [weatherTool],
      parallel_tool_calls: true,
    })
    const final = await stream.finalChatCompletion()
    const calls = final.choices[0]?.message.tool_calls?.map((call) =>
      call.type === 'function' ? [call.id, call.function.name, call.function.arguments] : [],
    )
    assert.deepEqual(calls, [
      ['call_1', 'get_weather', '{"city":"Paris"}'],
      ['call_2', 'get_weather', '{"city":"Rome"}'],
    ])
    assert.equal(final.choices[0]?.finish_reason, 'tool_calls')
    assert.equal(lastBody().parallel_tool_calls, true)
  })

  test('JSON schema output: response_format passes through and the content parses', async () => {
    answer = (_request, response) =>
      sendJson(response, 200, azureCompletion({ content: '{"city":"Paris","celsius":18}' }))
    const responseFormat = {
      type: 'json_schema' as const,
      json_schema: {
        name: 'weather',
        strict: true,
        schema: {
          type: 'object',
          properties: { city: { type: 'string' }, celsius: { type: 'number' } },
          required: ['city', 'celsius'],
          additionalProperties: false,
        },
      },
    }
    const reply = await gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [user('Weather?')],
      response_format: responseFormat,
    })
    assert.deepEqual(JSON.parse(reply.choices[0]?.message.content ?? ''), {
      city: 'Paris',
      celsius: 18,
    })
    assert.deepEqual(lastBody().response_format, responseFormat)
  })

  test('stop sequences and a max_tokens cut-off (finish_reason length), unstreamed and streamed', async () => {
    answer = (_request, response) =>
      sendJson(response, 200, azureCompletion({ content: 'One, two' }, 'length'))
    const reply = await gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [user('Count')],
      stop: ['\n', 'ten'],
      max_tokens: 3,
    })
    assert.equal(reply.choices[0]?.finish_reason, 'length')
    assert.deepEqual(lastBody().stop, ['\n', 'ten'])
    assert.equal(lastBody().max_tokens, 3)

    answer = (_request, response) =>
      sendEvents(response, [
        { data: promptFilterChunk },
        { data: azureChunk({ content: '', refusal: null, role: 'assistant' }) },
        { data: azureChunk({ content: 'One,' }) },
        { data: azureChunk({}, 'length') },
        { data: '[DONE]' },
      ])
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gpt-4o',
        messages: [user('Count')],
        max_completion_tokens: 2,
        stream: true,
      }),
    )
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'length')
    assert.equal(lastBody().max_completion_tokens, 2)
  })

  function azureStream(text: string[], options: { usage: boolean; asyncFilter?: boolean }) {
    return (request: RecordedRequest, response: import('node:http').ServerResponse) => {
      const wantsUsage =
        (request.body as { stream_options?: { include_usage?: boolean } }).stream_options
          ?.include_usage === true
      const events: { data: unknown }[] = [
        { data: promptFilterChunk },
        { data: azureChunk({ content: '', refusal: null, role: 'assistant' }) },
        ...text.map((word) => ({ data: azureChunk({ content: word }) })),
      ]
      if (options.asyncFilter) events.push({ data: asyncFilterChunk() })
      events.push({ data: azureChunk({}, 'stop') })
      if (options.usage && wantsUsage) events.push({ data: azureUsageChunk() })
      events.push({ data: '[DONE]' })
      return sendEvents(response, events)
    }
  }

  test('streams: the prompt-filter first chunk and async filter annotations are not forwarded; usage is stripped when not asked for', async () => {
    answer = azureStream(['Hello', ' world'], { usage: true, asyncFilter: true })
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gpt-4o',
        messages: [user('Hi')],
        stream: true,
      }),
    )
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]?.delta.content),
      ['', 'Hello', ' world', undefined],
    )
    assert.ok(
      chunks.every((chunk) => chunk.choices.length === 1 && chunk.choices[0]?.delta !== undefined),
    )
    assert.ok(chunks.every((chunk) => chunk.model === 'gpt-4o' && !chunk.usage))
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'stop')
    // Content-filter results on ordinary chunks pass through untouched.
    const second = chunks[1]!.choices[0] as unknown as Record<string, unknown>
    assert.deepEqual(second.content_filter_results, filterResults)
    // The gateway asked Azure for usage to count the request.
    assert.deepEqual(lastBody().stream_options, { include_usage: true })
    assert.equal('model' in lastBody(), false)
  })

  test('streams: the usage chunk is relayed when the client asks for it', async () => {
    answer = azureStream(['Hi'], { usage: true })
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gpt-4o',
        messages: [user('Hi')],
        stream: true,
        stream_options: { include_usage: true },
      }),
    )
    const last = chunks.at(-1)!
    assert.deepEqual(last.choices, [])
    assert.deepEqual(last.usage, azureUsage)
    assert.equal(chunks.filter((chunk) => chunk.choices.length === 0).length, 1)
  })

  test('content filter: finish_reason content_filter, unstreamed and streamed', async () => {
    const flagged = { ...filterResults, violence: { filtered: true, severity: 'medium' } }
    answer = (_request, response) => {
      const body = azureCompletion({ content: null }, 'content_filter')
      body.choices[0]!.content_filter_results = flagged
      sendJson(response, 200, body)
    }
    const reply = await gateway.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [user('x')],
    })
    assert.equal(reply.choices[0]?.finish_reason, 'content_filter')
    const choice = reply.choices[0] as unknown as Record<string, unknown>
    assert.deepEqual(choice.content_filter_results, flagged)

    answer = (_request, response) =>
      sendEvents(response, [
        { data: promptFilterChunk },
        { data: azureChunk({ content: '', role: 'assistant' }) },
        { data: azureChunk({ content: 'Here is how' }) },
        {
          data: {
            ...azureChunk({}, 'content_filter'),
            choices: [
              {
                content_filter_results: flagged,
                delta: {},
                finish_reason: 'content_filter',
                index: 0,
              },
            ],
          },
        },
        { data: '[DONE]' },
      ])
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gpt-4o',
        messages: [user('x')],
        stream: true,
      }),
    )
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'content_filter')
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]?.delta.content),
      ['', 'Here is how', undefined],
    )
  })

  test('content filter on the prompt: Azure 400 relayed with code content_filter and param prompt', async () => {
    answer = (_request, response) =>
      sendJson(response, 400, {
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: {
            code: 'ResponsibleAIPolicyViolation',
            content_filter_result: {
              ...filterResults,
              violence: { filtered: true, severity: 'high' },
            },
          },
        },
      })
    for (const stream of [false, true]) {
      await assert.rejects(
        gateway.client.chat.completions.create({ model: 'gpt-4o', messages: [user('x')], stream }),
        (error) => {
          assert.ok(error instanceof OpenAI.BadRequestError)
          assert.equal(error.code, 'content_filter')
          assert.equal(error.param, 'prompt')
          assert.equal(error.type, 'invalid_request_error')
          assert.match(error.message, /content management policy/)
          return true
        },
      )
    }
  })

  test('upstream 429 keeps retry-after and becomes rate_limit_exceeded, streamed and unstreamed', async () => {
    answer = (_request, response) => {
      response.setHeader('retry-after', '6')
      sendJson(response, 429, {
        error: {
          code: '429',
          message:
            'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.',
        },
      })
    }
    for (const stream of [false, true]) {
      const response = await fetch(`${gateway.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [user('x')], stream }),
      })
      assert.equal(response.status, 429)
      assert.equal(response.headers.get('retry-after'), '6')
      const { error } = (await response.json()) as { error: Record<string, unknown> }
      assert.equal(error.code, 'rate_limit_exceeded')
      assert.equal(error.type, 'rate_limit_error')
      assert.match(String(error.message), /exceeded token rate limit/)
    }
  })

  test('upstream 500 and 503 map to 502 and 503, streamed and unstreamed', async () => {
    for (const [status, expected, ErrorClass] of [
      [500, 502, OpenAI.InternalServerError],
      [503, 503, OpenAI.InternalServerError],
    ] as const) {
      answer = (_request, response) =>
        sendJson(response, status, {
          error: {
            code: 'InternalServerError',
            message: 'The server had an error while processing your request.',
          },
        })
      for (const stream of [false, true]) {
        await assert.rejects(
          gateway.client.chat.completions.create({
            model: 'gpt-4o',
            messages: [user('x')],
            stream,
          }),
          (error) => {
            assert.ok(error instanceof ErrorClass)
            assert.equal(error.status, expected)
            assert.match(error.message, /server had an error/)
            return true
          },
        )
      }
    }
  })

  test('a refused api-key is upstream_auth (502) and never echoes the key', async () => {
    const response = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'broken-key', messages: [user('x')] }),
    })
    const text = await response.text()
    assert.equal(response.status, 502)
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'upstream_auth')
    assert.ok(!text.includes(azureKey))
  })

  test('an unknown deployment is relayed as Azure 404 DeploymentNotFound', async () => {
    answer = (_request, response) =>
      sendJson(response, 404, {
        error: {
          code: 'DeploymentNotFound',
          message: 'The API deployment for this resource does not exist.',
        },
      })
    await assert.rejects(
      gateway.client.chat.completions.create({ model: 'mini', messages: [user('x')] }),
      (error) => {
        assert.ok(error instanceof OpenAI.NotFoundError)
        assert.equal(error.code, 'DeploymentNotFound')
        return true
      },
    )
  })

  test(`Azure's model name (${azureModel}) in stream chunks is replaced by the asked model`, async () => {
    answer = azureStream(['x'], { usage: false })
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gpt-4o',
        messages: [user('Hi')],
        stream: true,
      }),
    )
    assert.ok(chunks.length > 0 && chunks.every((chunk) => chunk.model === 'gpt-4o'))
  })
})
