import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChatCompletionChunk, StreamPart } from '../../src/core/chat.ts'
import { createStreamTranslator } from '../../src/providers/anthropic/stream-translator.ts'
import { fixtureEvents } from './fixtures.ts'

const created = 1_700_000_000

function translate(fixture: string, clientWantsUsage = false) {
  const translator = createStreamTranslator({
    requestedModel: 'claude',
    clientWantsUsage,
    created,
    secrets: [],
  })
  /** Parts per event, to check that each event's parts come out as it arrives. */
  const perEvent = fixtureEvents(fixture).map((event) => translator.push(event))
  const parts = [...perEvent.flat(), ...translator.end()]
  return { perEvent, parts }
}

function chunks(parts: StreamPart[]): ChatCompletionChunk[] {
  return parts.flatMap((part) => (part.type === 'chunk' ? [part.chunk] : []))
}

function deltas(parts: StreamPart[]) {
  return chunks(parts).flatMap((chunk) =>
    chunk.choices.map((choice) => ({ delta: choice.delta, finish: choice.finish_reason })),
  )
}

describe('Anthropic stream translator', () => {
  test('text: role first, one chunk per text delta, finish, usage part', () => {
    const { parts, perEvent } = translate('text.stream.txt')
    assert.deepEqual(deltas(parts), [
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Hello' }, finish: null },
      { delta: { content: '!' }, finish: null },
      { delta: {}, finish: 'stop' },
    ])
    for (const chunk of chunks(parts)) {
      assert.equal(chunk.id, 'chatcmpl-msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY')
      assert.equal(chunk.model, 'claude')
      assert.equal(chunk.created, created)
      assert.equal(chunk.object, 'chat.completion.chunk')
    }
    assert.deepEqual(parts.at(-1), {
      type: 'usage',
      usage: {
        prompt_tokens: 25,
        completion_tokens: 15,
        total_tokens: 40,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    })
    // message_start, the two text deltas, message_delta and message_stop each yield at once.
    assert.deepEqual(
      perEvent.map((eventParts) => eventParts.length),
      [1, 0, 0, 1, 1, 0, 1, 1],
    )
  })

  test('the client asked for usage: a final chunk with no choices and both token counts', () => {
    const { parts } = translate('tool-use.stream.txt', true)
    const last = parts.at(-1)
    assert.equal(last?.type, 'chunk')
    assert.deepEqual(last?.type === 'chunk' && last.chunk.choices, [])
    assert.deepEqual(last?.type === 'chunk' && last.chunk.usage, {
      prompt_tokens: 472 + 100 + 20,
      completion_tokens: 89,
      total_tokens: 472 + 100 + 20 + 89,
      prompt_tokens_details: { cached_tokens: 100 },
    })
  })

  test('parallel tool calls: index per call, id and name first, then argument fragments', () => {
    const { parts } = translate('tool-use.stream.txt')
    assert.deepEqual(deltas(parts), [
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: "Okay, let's check the weather in both cities." }, finish: null },
      {
        delta: {
          tool_calls: [
            {
              index: 0,
              id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
              type: 'function',
              function: { name: 'get_weather', arguments: '' },
            },
          ],
        },
        finish: null,
      },
      {
        delta: { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] },
        finish: null,
      },
      {
        delta: { tool_calls: [{ index: 0, function: { arguments: ' "San Francisco, CA"}' } }] },
        finish: null,
      },
      {
        delta: {
          tool_calls: [
            {
              index: 1,
              id: 'toolu_02Hq8fbEjxGkTjN7Y3ud1ay9',
              type: 'function',
              function: { name: 'get_weather', arguments: '' },
            },
          ],
        },
        finish: null,
      },
      {
        delta: { tool_calls: [{ index: 1, function: { arguments: '{"location": "Par' } }] },
        finish: null,
      },
      { delta: { tool_calls: [{ index: 1, function: { arguments: 'is"}' } }] }, finish: null },
      { delta: {}, finish: 'tool_calls' },
    ])
  })

  test('thinking streams as reasoning_content, then the whole signed block when it stops', () => {
    const { parts } = translate('thinking.stream.txt')
    assert.deepEqual(deltas(parts), [
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { reasoning_content: 'I need to find the GCD of 1071 and 462.' }, finish: null },
      { delta: { reasoning_content: ' 1071 = 2 × 462 + 147' }, finish: null },
      {
        delta: {
          thinking_blocks: [
            {
              type: 'thinking',
              thinking: 'I need to find the GCD of 1071 and 462. 1071 = 2 × 462 + 147',
              signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
            },
          ],
        },
        finish: null,
      },
      {
        delta: { content: 'The greatest common divisor of 1071 and 462 is **21**.' },
        finish: null,
      },
      { delta: {}, finish: 'stop' },
    ])
    const usage = parts.at(-1)
    assert.deepEqual(usage?.type === 'usage' && usage.usage.completion_tokens_details, {
      reasoning_tokens: 270,
    })
  })

  test('an error event becomes an error part mapped like an HTTP error, and ends the stream', () => {
    const { parts } = translate('overloaded.stream.txt')
    const last = parts.at(-1)
    assert.equal(last?.type, 'error')
    assert.equal(last?.type === 'error' && last.error.status, 503)
    assert.equal(last?.type === 'error' && last.error.message, 'Overloaded')
    assert.equal(parts.filter((part) => part.type === 'error').length, 1)
  })

  test('a stream that ends without message_stop ends with an error part', () => {
    const { parts } = translate('truncated.stream.txt')
    const last = parts.at(-1)
    assert.equal(last?.type, 'error')
    assert.equal(last?.type === 'error' && last.error.code, 'upstream_error')
    assert.match(last?.type === 'error' ? last.error.message : '', /before message_stop/)
  })

  test('the JSON-answer tool streams as content and finishes with stop', () => {
    const translator = createStreamTranslator({
      requestedModel: 'claude',
      clientWantsUsage: false,
      created,
      secrets: [],
    })
    const events = [
      {
        type: 'message_start',
        message: { id: 'msg_j', content: [], usage: { input_tokens: 5, output_tokens: 1 } },
      },
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_j', name: 'json_response', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"a":' },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '1}' },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ]
    const parts = events.flatMap((event) =>
      translator.push({ event: event.type, data: JSON.stringify(event) }),
    )
    assert.deepEqual(deltas(parts).slice(1), [
      { delta: { content: '{"a":' }, finish: null },
      { delta: { content: '1}' }, finish: null },
      { delta: {}, finish: 'stop' },
    ])
  })

  test('an event that is not JSON is an error part', () => {
    const translator = createStreamTranslator({
      requestedModel: 'claude',
      clientWantsUsage: false,
      created,
      secrets: [],
    })
    const parts = translator.push({ event: 'message_start', data: '{oops' })
    assert.equal(parts[0]?.type, 'error')
    assert.deepEqual(translator.end(), [])
  })
})
