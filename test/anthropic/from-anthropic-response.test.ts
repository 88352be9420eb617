import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { GatewayError } from '../../src/core/errors.ts'
import { fromAnthropicResponse } from '../../src/providers/anthropic/from-anthropic-response.ts'
import { mapFinishReason } from '../../src/providers/anthropic/map-finish-reason.ts'
import { fixtureText } from './fixtures.ts'

const created = 1_700_000_000

describe('fromAnthropicResponse', () => {
  test('text, id, model, created and usage with cache tokens', () => {
    assert.deepEqual(fromAnthropicResponse(fixtureText('message.json'), 'claude', created), {
      id: 'chatcmpl-msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      created,
      model: 'claude',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 2095 + 1000 + 2051,
        completion_tokens: 503,
        total_tokens: 2095 + 1000 + 2051 + 503,
        prompt_tokens_details: { cached_tokens: 1000 },
      },
    })
  })

  test('tool_use blocks become tool calls with their ids, in order, beside the text', () => {
    const completion = fromAnthropicResponse(fixtureText('tool-use.json'), 'claude', created)
    const choice = completion.choices[0]!
    assert.equal(choice.finish_reason, 'tool_calls')
    assert.equal(choice.message.content, "I'll check the current weather in both cities.")
    assert.deepEqual(choice.message.tool_calls, [
      {
        id: 'toolu_01A09q90qw90lq917835lq9',
        type: 'function',
        function: {
          name: 'get_weather',
          arguments: '{"location":"San Francisco, CA","unit":"celsius"}',
        },
      },
      {
        id: 'toolu_02B19r91rw91mr928946mr0',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' },
      },
    ])
  })

  test('thinking becomes reasoning_content and signed thinking_blocks; reasoning tokens are reported', () => {
    const completion = fromAnthropicResponse(fixtureText('thinking.json'), 'claude', created)
    assert.deepEqual(completion.choices[0]!.message, {
      role: 'assistant',
      content: 'Based on my analysis, the answer is 42.',
      refusal: null,
      reasoning_content: 'Let me analyze this step by step...',
      thinking_blocks: [
        {
          type: 'thinking',
          thinking: 'Let me analyze this step by step...',
          signature:
            'WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL',
        },
        {
          type: 'redacted_thinking',
          data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP',
        },
      ],
    })
    assert.deepEqual(completion.usage?.completion_tokens_details, { reasoning_tokens: 350 })
  })

  const stops: [string, string][] = [
    ['refusal.json', 'content_filter'],
    ['max-tokens.json', 'length'],
    ['stop-sequence.json', 'stop'],
  ]
  for (const [fixture, expected] of stops) {
    test(`${fixture} finishes with ${expected}`, () => {
      const completion = fromAnthropicResponse(fixtureText(fixture), 'claude', created)
      assert.equal(completion.choices[0]!.finish_reason, expected)
    })
  }

  test('the JSON-answer tool comes back as content with finish_reason stop', () => {
    const body = JSON.stringify({
      id: 'msg_json',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'tool_use', id: 'toolu_j', name: 'json_response', input: { name: 'Ada' } }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5 },
    })
    const choice = fromAnthropicResponse(body, 'claude', created).choices[0]!
    assert.equal(choice.message.content, '{"name":"Ada"}')
    assert.equal(choice.message.tool_calls, undefined)
    assert.equal(choice.finish_reason, 'stop')
  })

  test('a body that is not a message is an upstream error', () => {
    for (const body of ['not json', '{"type":"message"}']) {
      assert.throws(
        () => fromAnthropicResponse(body, 'claude', created),
        (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error',
      )
    }
  })
})

describe('mapFinishReason', () => {
  const table = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, 'stop'],
  ] as const
  for (const [reason, expected] of table) {
    test(`${reason} -> ${expected}`, () => assert.equal(mapFinishReason(reason), expected))
  }
})
