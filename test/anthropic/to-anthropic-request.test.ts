import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChatRequest } from '../../src/core/chat.ts'
import { GatewayError } from '../../src/core/errors.ts'
import {
  type AnthropicRequestOptions,
  toAnthropicRequest,
} from '../../src/providers/anthropic/to-anthropic-request.ts'
import type { TargetContext } from '../../src/providers/types.ts'

const target: TargetContext = {
  upstreamModel: 'claude-sonnet-4-5',
  requestedModel: 'claude',
  stream: false,
  clientWantsUsage: false,
}
const options: AnthropicRequestOptions = {
  defaultMaxTokens: 4096,
  reasoningMode: 'budget',
  samplingParameters: true,
}

function build(request: Partial<ChatRequest>, overrides: Partial<AnthropicRequestOptions> = {}) {
  return toAnthropicRequest(
    { model: 'claude', messages: [{ role: 'user', content: 'Hi' }], ...request } as ChatRequest,
    target,
    { ...options, ...overrides },
  )
}

function rejection(
  request: Partial<ChatRequest>,
  overrides: Partial<AnthropicRequestOptions> = {},
) {
  try {
    build(request, overrides)
  } catch (error) {
    assert.ok(error instanceof GatewayError)
    return { status: error.status, code: error.code, param: error.param, message: error.message }
  }
  assert.fail('expected the request to be refused')
}

describe('toAnthropicRequest: messages', () => {
  test('system and developer messages are hoisted in order; turns alternate', () => {
    const { body } = build({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Again' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'assistant', content: [{ type: 'text', text: '!' }] },
      ],
    })
    assert.deepEqual(body.system, [
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Answer in French.' },
    ])
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hi' },
          { type: 'text', text: 'Again' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Bonjour' },
          { type: 'text', text: '!' },
        ],
      },
    ])
  })

  test('a single system message is sent as a string', () => {
    const { body } = build({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    })
    assert.equal(body.system, 'Be brief.')
  })

  test('tool calls become tool_use blocks; several tool results become one user turn', () => {
    const { body } = build({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'toolu_2',
              type: 'function',
              function: { name: 'weather', arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: 'Rain' }] },
        { role: 'user', content: 'Thanks' },
      ],
    })
    assert.deepEqual(body.messages.slice(1), [
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'Rain' },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ])
  })

  test('images: data URLs become base64 sources, http URLs are left for Anthropic to fetch', () => {
    const { body } = build({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            {
              type: 'image_url',
              image_url: { url: 'https://example.com/cat.jpg', detail: 'high' },
            },
          ],
        },
      ],
    })
    assert.deepEqual(body.messages[0]!.content, [
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ])
  })

  const refusals: [string, Partial<ChatRequest>, { code: string; param: string }][] = [
    [
      'invalid tool-call JSON names the parameter',
      {
        messages: [
          { role: 'user', content: 'Hi' },
          {
            role: 'assistant',
            tool_calls: [
              { id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":' } },
            ],
          },
        ],
      },
      { code: 'invalid_request', param: 'messages[1].tool_calls[0].function.arguments' },
    ],
    [
      'an image type Anthropic does not take',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }],
          },
        ],
      },
      { code: 'invalid_request', param: 'messages[0].content[0].image_url.url' },
    ],
    [
      'audio input',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'input_audio', input_audio: { data: 'AAA=', format: 'wav' } }],
          },
        ],
      },
      { code: 'unsupported_parameter', param: 'messages[0].content[0].type' },
    ],
    ['n > 1', { n: 2 }, { code: 'unsupported_parameter', param: 'n' }],
    [
      'legacy functions',
      { functions: [{ name: 'f', parameters: {} }] },
      { code: 'unsupported_parameter', param: 'functions' },
    ],
    [
      'audio output',
      { modalities: ['text', 'audio'] },
      { code: 'unsupported_parameter', param: 'modalities' },
    ],
  ]
  for (const [name, request, expected] of refusals) {
    test(`refused with a 400: ${name}`, () => {
      const failure = rejection(request)
      assert.equal(failure.status, 400)
      assert.equal(failure.code, expected.code)
      assert.equal(failure.param, expected.param)
    })
  }
})

describe('toAnthropicRequest: parameters', () => {
  test('max tokens: max_completion_tokens wins, then max_tokens, then the default', () => {
    assert.equal(build({ max_completion_tokens: 100, max_tokens: 50 }).body.max_tokens, 100)
    assert.equal(build({ max_tokens: 50 }).body.max_tokens, 50)
    assert.equal(build({}).body.max_tokens, 4096)
  })

  const temperatures: [number, number][] = [
    [0, 0],
    [0.7, 0.7],
    [1, 1],
    [1.8, 1],
  ]
  for (const [sent, expected] of temperatures) {
    test(`temperature ${sent} is clamped into Anthropic's 0..1 as ${expected}`, () => {
      assert.equal(build({ temperature: sent }).body.temperature, expected)
    })
  }

  test('sampling parameters are dropped for API versions that refuse them', () => {
    const { body, dropped } = build({ temperature: 0.2, top_p: 0.9 }, { samplingParameters: false })
    assert.equal(body.temperature, undefined)
    assert.equal(body.top_p, undefined)
    assert.deepEqual(dropped, ['temperature', 'top_p'])
  })

  test('stop, user, top_p and stream are mapped; parameters without an equivalent are dropped and named', () => {
    const { body, dropped } = toAnthropicRequest(
      {
        model: 'claude',
        messages: [{ role: 'user', content: 'Count' }],
        stop: ['5', ' '],
        user: 'user-42',
        top_p: 0.5,
        seed: 7,
        frequency_penalty: 0.5,
        presence_penalty: 0,
        logit_bias: { '50256': -100 },
        logprobs: false,
        stream: true,
        stream_options: { include_usage: true },
        parallel_tool_calls: true,
      },
      { ...target, stream: true },
      options,
    )
    assert.deepEqual(body.stop_sequences, ['5'])
    assert.deepEqual(body.metadata, { user_id: 'user-42' })
    assert.equal(body.top_p, 0.5)
    assert.equal(body.stream, true)
    assert.deepEqual(dropped.sort(), [
      'frequency_penalty',
      'logit_bias',
      'presence_penalty',
      'seed',
      'stop',
    ])
  })

  test('tools, tool_choice and parallel_tool_calls', () => {
    const tools: ChatRequest['tools'] = [
      {
        type: 'function',
        function: {
          name: 'weather',
          description: 'Weather for a city',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
          strict: true,
        },
      },
      { type: 'function', function: { name: 'time' } },
    ]
    const cases: [ChatRequest['tool_choice'], boolean | undefined, unknown][] = [
      [undefined, undefined, undefined],
      ['auto', false, { type: 'auto', disable_parallel_tool_use: true }],
      ['none', undefined, { type: 'none' }],
      ['required', undefined, { type: 'any' }],
      [
        { type: 'function', function: { name: 'time' } },
        false,
        { type: 'tool', name: 'time', disable_parallel_tool_use: true },
      ],
    ]
    for (const [choice, parallel, expected] of cases) {
      const request: Partial<ChatRequest> = { tools }
      if (choice !== undefined) request.tool_choice = choice
      if (parallel !== undefined) request.parallel_tool_calls = parallel
      const { body } = build(request)
      assert.deepEqual(body.tool_choice, expected, JSON.stringify(choice))
      assert.deepEqual(body.tools, [
        {
          name: 'weather',
          description: 'Weather for a city',
          input_schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
          strict: true,
        },
        { name: 'time', input_schema: { type: 'object' } },
      ])
    }
  })

  test('response_format: a strict schema becomes a structured output', () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      additionalProperties: false,
    }
    const { body } = build({
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'person', schema, strict: true },
      },
    })
    assert.deepEqual(body.output_config, { format: { type: 'json_schema', schema } })
    assert.equal(body.tools, undefined)
  })

  test('response_format: json_object and loose schemas become a forced JSON tool', () => {
    const { body } = build({ response_format: { type: 'json_object' } })
    assert.equal(body.output_config, undefined)
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'json_response' })
    assert.deepEqual(body.tools, [
      {
        name: 'json_response',
        description: 'Respond with your final answer as the input of this tool, as a JSON object.',
        input_schema: { type: 'object' },
      },
    ])
    const loose = build({
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'x',
          schema: { type: 'object', properties: { a: { type: 'number' } } },
        },
      },
    }).body
    assert.deepEqual(loose.tools, [
      {
        name: 'json_response',
        description: 'Respond with your final answer as the input of this tool, as a JSON object.',
        input_schema: { type: 'object', properties: { a: { type: 'number' } } },
      },
    ])
  })

  test('reasoning_effort: budgets, room for the answer, and no temperature with thinking', () => {
    const low = build({ reasoning_effort: 'low', temperature: 0.5 })
    assert.deepEqual(low.body.thinking, { type: 'enabled', budget_tokens: 2048 })
    assert.equal(low.body.max_tokens, 2048 + 4096)
    assert.equal(low.body.temperature, undefined)
    assert.deepEqual(low.dropped, ['temperature'])
    const capped = build({ reasoning_effort: 'high', max_completion_tokens: 3000 }).body
    assert.deepEqual(capped.thinking, { type: 'enabled', budget_tokens: 2999 })
    assert.equal(capped.max_tokens, 3000)
    assert.equal(build({ reasoning_effort: 'none' }).body.thinking, undefined)
    const adaptive = build({ reasoning_effort: 'medium' }, { reasoningMode: 'adaptive' }).body
    assert.deepEqual(adaptive.thinking, { type: 'adaptive', display: 'summarized' })
    assert.deepEqual(adaptive.output_config, { effort: 'medium' })
    assert.equal(rejection({ reasoning_effort: 'low', max_tokens: 500 }).param, 'reasoning_effort')
    assert.equal(
      rejection({ reasoning_effort: 'low', response_format: { type: 'json_object' } }).param,
      'response_format',
    )
  })
})
