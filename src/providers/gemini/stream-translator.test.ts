import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { StreamPart } from '../../core/chat.ts'
import { fixtureEvents } from './fixtures.test-helper.ts'
import { GeminiStreamTranslator } from './stream-translator.ts'

function translate(name: string, clientWantsUsage = false) {
  let calls = 0
  const translator = new GeminiStreamTranslator({
    fallbackId: 'fallback',
    created: 1_700_000_000,
    model: 'gemini-flash',
    newCallId: () => `call_${++calls}`,
    clientWantsUsage,
    secrets: [],
  })
  const perEvent = fixtureEvents(name).map((event) => translator.push(event))
  return { perEvent, end: translator.end(), all: [...perEvent.flat(), ...translator.end()] }
}

function chunk(id: string, delta: object, finish: string | null = null, index = 0) {
  return {
    type: 'chunk',
    chunk: {
      id,
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'gemini-flash',
      choices: [{ index, delta, finish_reason: finish, logprobs: null }],
    },
  }
}

const usage = (prompt: number, completion: number, reasoning = 0) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: reasoning },
})

describe('GeminiStreamTranslator', () => {
  test('text: role first, one chunk per event, finish chunk, usage recorded not written', () => {
    const id = 'chatcmpl-stream-text-1'
    const { perEvent, end } = translate('text.stream.txt')
    assert.deepEqual(perEvent, [
      [chunk(id, { role: 'assistant', content: 'The sky' })],
      [chunk(id, { content: ' is blue.' })],
      [chunk(id, {}, 'stop')],
    ])
    assert.deepEqual(end, [{ type: 'usage', usage: usage(8, 6) }])
  })

  test('text with include_usage: a usage chunk with no choices', () => {
    const { end } = translate('text.stream.txt', true)
    assert.deepEqual(end, [
      {
        type: 'chunk',
        chunk: {
          id: 'chatcmpl-stream-text-1',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'gemini-flash',
          choices: [],
          usage: usage(8, 6),
        },
      },
    ])
  })

  test('function calls: whole calls with stable indexes, finish tool_calls', () => {
    const id = 'chatcmpl-stream-fc-1'
    const { perEvent } = translate('function-call.stream.txt')
    assert.deepEqual(perEvent, [
      [chunk(id, { role: 'assistant', content: 'Let me check both cities.' })],
      [
        chunk(id, {
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              extra_content: { google: { thought_signature: 'CiQB0e2Kb2zAbC1sig==' } },
            },
          ],
        }),
      ],
      [
        chunk(id, {
          tool_calls: [
            {
              index: 1,
              id: 'call_2',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"London"}' },
            },
          ],
        }),
        chunk(id, {}, 'tool_calls'),
      ],
    ])
  })

  test('thoughts stream as reasoning_content', () => {
    const id = 'chatcmpl-stream-think-1'
    const { perEvent, end } = translate('thinking.stream.txt')
    assert.deepEqual(perEvent, [
      [
        chunk(id, {
          role: 'assistant',
          reasoning_content: '**Counting**\n\nI will count the letters.',
        }),
      ],
      [chunk(id, { content: 'There are 3.' })],
      [chunk(id, {}, 'stop')],
    ])
    assert.deepEqual(end, [{ type: 'usage', usage: usage(12, 33, 28) }])
  })

  test('a blocked prompt: one content_filter choice', () => {
    const { perEvent } = translate('blocked-prompt.stream.txt')
    assert.deepEqual(perEvent, [
      [chunk('chatcmpl-stream-blocked-1', { role: 'assistant' }, 'content_filter')],
    ])
  })

  test('two candidates keep their own index, role and finish', () => {
    const id = 'chatcmpl-stream-two-1'
    const { all } = translate('two-candidates.stream.txt')
    assert.deepEqual(all.slice(0, 5), [
      chunk(id, { role: 'assistant', content: 'Red' }, null, 0),
      chunk(id, { role: 'assistant', content: 'Blue' }, null, 1),
      chunk(id, {}, 'stop', 0),
      chunk(id, { content: ' sky' }, null, 1),
      chunk(id, {}, 'length', 1),
    ])
    assert.equal(all.length, 6)
  })

  const failures: [string, string, number][] = [
    ['cut-off.stream.txt', 'upstream_error', 502],
    ['mid-stream-error.stream.txt', 'upstream_overloaded', 503],
  ]
  for (const [name, code, status] of failures) {
    test(`${name} ends in an error part`, () => {
      const last = translate(name).all.at(-1) as Extract<StreamPart, { type: 'error' }>
      assert.equal(last.type, 'error')
      assert.equal(last.error.code, code)
      assert.equal(last.error.status, status)
    })
  }

  test('junk in an event is an error, and nothing follows it', () => {
    const translator = new GeminiStreamTranslator({
      fallbackId: 'f',
      created: 0,
      model: 'm',
      newCallId: () => 'c',
      clientWantsUsage: false,
      secrets: [],
    })
    const parts = translator.push({ event: undefined, data: '{"candidates": 5}' })
    assert.equal(parts[0]?.type, 'error')
    assert.deepEqual(translator.push({ event: undefined, data: '{"candidates": []}' }), [])
    assert.deepEqual(translator.end(), [])
  })
})
