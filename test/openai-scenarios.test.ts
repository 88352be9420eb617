/**
 * The provider scenarios every kind must pass (see docs/providers.md), for `kind: openai`:
 * the official SDK calls the gateway, streamed and unstreamed, in front of a fake OpenAI-compatible
 * server that checks what it receives. The streamed answer is folded back by the SDK's own
 * accumulator, so both modes must give the same completion.
 */
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions'
import {
  type FakeUpstream,
  type RecordedRequest,
  sendEvents,
  sendJson,
  startFakeUpstream,
} from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'

type Message = ChatCompletion.Choice['message']

interface Scenario {
  name: string
  request: Omit<ChatCompletionCreateParamsNonStreaming, 'model' | 'stream'>
  reply: { message: Partial<Message>; finish: ChatCompletion.Choice['finish_reason'] }
}

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}
const call = (id: string, city: string) => ({
  id,
  type: 'function' as const,
  function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
})
const imageData =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

const scenarios: Scenario[] = [
  {
    name: 'plain chat',
    request: { messages: [{ role: 'user', content: 'Hi!' }] },
    reply: { message: { content: 'Hello! How can I help?' }, finish: 'stop' },
  },
  {
    name: 'system prompt',
    request: {
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hi!' },
      ],
    },
    reply: { message: { content: 'Bonjour !' }, finish: 'stop' },
  },
  {
    name: 'multi-turn',
    request: {
      messages: [
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: 'Nice to meet you, Ada.' },
        { role: 'user', content: 'What is my name?' },
      ],
    },
    reply: { message: { content: 'Your name is Ada.' }, finish: 'stop' },
  },
  {
    name: 'image input (data URL and http URL)',
    request: {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image_url', image_url: { url: imageData, detail: 'low' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
      ],
    },
    reply: { message: { content: 'Two cats.' }, finish: 'stop' },
  },
  {
    name: 'single tool call',
    request: {
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weather],
      tool_choice: 'auto',
    },
    reply: {
      message: { content: null, tool_calls: [call('call_1', 'Paris')] },
      finish: 'tool_calls',
    },
  },
  {
    name: 'parallel tool calls with results',
    request: {
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [call('call_1', 'Paris'), call('call_2', 'Rome')],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":18}' },
        { role: 'tool', tool_call_id: 'call_2', content: '{"temp":24}' },
        { role: 'user', content: 'And Oslo and Lima?' },
      ],
      tools: [weather],
      parallel_tool_calls: true,
    },
    reply: {
      message: { content: null, tool_calls: [call('call_3', 'Oslo'), call('call_4', 'Lima')] },
      finish: 'tool_calls',
    },
  },
  {
    name: 'JSON schema output',
    request: {
      messages: [{ role: 'user', content: 'A city and its country.' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'place',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' }, country: { type: 'string' } },
            required: ['city', 'country'],
            additionalProperties: false,
          },
        },
      },
    },
    reply: { message: { content: '{"city":"Paris","country":"France"}' }, finish: 'stop' },
  },
  {
    name: 'stop sequences',
    request: { messages: [{ role: 'user', content: 'Count to five.' }], stop: ['4', 'END'] },
    reply: { message: { content: '1, 2, 3, ' }, finish: 'stop' },
  },
  {
    name: 'max-tokens cut-off',
    request: {
      messages: [{ role: 'user', content: 'Tell a long story.' }],
      max_completion_tokens: 5,
    },
    reply: { message: { content: 'Once upon a time' }, finish: 'length' },
  },
]

const usage = { prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 }

function completionOf(scenario: Scenario, model: string): ChatCompletion {
  return {
    id: 'chatcmpl-scenario',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', refusal: null, content: null, ...scenario.reply.message },
        finish_reason: scenario.reply.finish,
        logprobs: null,
      },
    ],
    usage,
  }
}

/** The same answer as OpenAI streams it: role, content pieces, tool-call deltas, finish, usage. */
function chunksOf(scenario: Scenario, model: string, withUsage: boolean): ChatCompletionChunk[] {
  const chunk = (
    delta: ChatCompletionChunk.Choice['delta'],
    finish: ChatCompletionChunk.Choice['finish_reason'] = null,
  ) => ({
    id: 'chatcmpl-scenario',
    object: 'chat.completion.chunk' as const,
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  })
  const chunks: ChatCompletionChunk[] = [chunk({ role: 'assistant', content: '' })]
  const { content, tool_calls: calls } = scenario.reply.message
  for (const piece of content?.match(/.{1,6}/gs) ?? []) chunks.push(chunk({ content: piece }))
  calls?.forEach((toolCall, index) => {
    if (toolCall.type !== 'function') return
    chunks.push(
      chunk({
        tool_calls: [
          {
            index,
            id: toolCall.id,
            type: 'function',
            function: { name: toolCall.function.name, arguments: '' },
          },
        ],
      }),
    )
    for (const piece of toolCall.function.arguments.match(/.{1,5}/gs) ?? []) {
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }))
    }
  })
  chunks.push(chunk({}, scenario.reply.finish))
  if (withUsage) chunks.push({ ...chunk({}), choices: [], usage })
  return chunks
}

describe('provider scenarios for kind: openai, streamed and unstreamed', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway
  let answer: (request: RecordedRequest, response: ServerResponse) => void | Promise<void> =
    () => {}

  before(async () => {
    upstream = await startFakeUpstream((request, response) => answer(request, response))
    gateway = await startTestGateway(`
routing: { circuit_breaker: { failure_threshold: 1000 } }
providers:
  compat: { kind: openai, base_url: "${upstream.url}/v1", api_key: sk-upstream-0123456789 }
models:
  - { id: gpt-test, type: image-text-to-text, route: { provider: compat, model: upstream-model-v2 } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      answer = (request, response) => {
        const body = request.body as {
          stream?: boolean
          stream_options?: { include_usage?: boolean }
        }
        if (body.stream !== true)
          return sendJson(response, 200, completionOf(scenario, 'upstream-model-v2'))
        const events = chunksOf(
          scenario,
          'upstream-model-v2',
          body.stream_options?.include_usage === true,
        )
        return sendEvents(response, [...events.map((data) => ({ data })), { data: '[DONE]' }])
      }
      const unstreamed = await gateway.client.chat.completions.create({
        ...scenario.request,
        model: 'gpt-test',
      })
      const sentUnstreamed = upstream.requests.at(-1)!.body as Record<string, unknown>
      // Everything the client sent reaches the upstream as sent, with the route's model.
      assert.deepEqual(sentUnstreamed, { ...scenario.request, model: 'upstream-model-v2' })

      const stream = gateway.client.chat.completions.stream({
        ...scenario.request,
        model: 'gpt-test',
        stream_options: { include_usage: true },
      })
      const streamed = await stream.finalChatCompletion()
      const sentStreamed = upstream.requests.at(-1)!.body as Record<string, unknown>
      assert.deepEqual(sentStreamed, {
        ...scenario.request,
        model: 'upstream-model-v2',
        stream: true,
        stream_options: { include_usage: true },
      })

      for (const result of [unstreamed, streamed]) {
        assert.equal(result.model, 'gpt-test')
        const choice = result.choices[0]!
        assert.equal(choice.finish_reason, scenario.reply.finish)
        assert.equal(choice.message.content ?? null, scenario.reply.message.content ?? null)
        assert.deepEqual(
          (choice.message.tool_calls ?? []).map(
            (toolCall) =>
              toolCall.type === 'function' && [
                toolCall.id,
                toolCall.function.name,
                toolCall.function.arguments,
              ],
          ),
          (scenario.reply.message.tool_calls ?? []).map(
            (toolCall) =>
              toolCall.type === 'function' && [
                toolCall.id,
                toolCall.function.name,
                toolCall.function.arguments,
              ],
          ),
        )
        assert.deepEqual(result.usage, usage)
      }
    })
  }

  for (const [status, expected] of [
    [429, 429],
    [500, 502],
    [503, 503],
  ] as const) {
    test(`upstream ${status} is a ${expected}, streamed and unstreamed`, async () => {
      answer = (_request, response) =>
        sendJson(response, status, {
          error: { message: `upstream says ${status}`, type: 'server_error', code: null },
        })
      for (const stream of [false, true]) {
        await assert.rejects(
          gateway.client.chat.completions.create({
            model: 'gpt-test',
            messages: [{ role: 'user', content: 'Hi' }],
            stream,
          }),
          (error) => {
            assert.ok(error instanceof OpenAI.APIError)
            assert.equal(error.status, expected)
            assert.match(error.message, new RegExp(`upstream says ${status}`))
            return true
          },
        )
      }
    })
  }
})
