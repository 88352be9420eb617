import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { GatewayError } from '../../core/errors.ts'
import { fixtureText } from './fixtures.test-helper.ts'
import { fromGeminiResponse } from './from-gemini-response.ts'
import { parsePayload } from './parse-payload.ts'

function translate(name: string) {
  let calls = 0
  const payload = parsePayload(fixtureText(name))
  assert.equal(payload.type, 'response')
  if (payload.type !== 'response') throw new Error('unreachable')
  return fromGeminiResponse(payload.response, {
    fallbackId: 'fallback',
    created: 1_700_000_000,
    model: 'gemini-flash',
    newCallId: () => `call_${++calls}`,
  })
}

const usage = (prompt: number, completion: number, cached = 0, reasoning = 0) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: cached },
  completion_tokens_details: { reasoning_tokens: reasoning },
})

describe('fromGeminiResponse', () => {
  test('plain text: id from responseId, requested model, usage', () => {
    assert.deepEqual(translate('text.response.json'), {
      id: 'chatcmpl-mAitaKTVDqKiz7IPw6zq0Qo',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gemini-flash',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'The sky is blue because of Rayleigh scattering.',
            refusal: null,
          },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: usage(8, 10),
    })
  })

  test('parallel function calls: ids generated in order, signature kept, finish tool_calls', () => {
    const choice = translate('function-call.response.json').choices[0]!
    assert.equal(choice.finish_reason, 'tool_calls')
    assert.equal(choice.message.content, null)
    assert.deepEqual(choice.message.tool_calls, [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        extra_content: { google: { thought_signature: 'CiQB0e2Kb2zAbC1sig==' } },
      },
      {
        id: 'call_2',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"London","unit":"celsius"}' },
      },
    ])
  })

  test('thought parts become reasoning_content; thoughts count as reasoning tokens', () => {
    const completion = translate('thinking.response.json')
    assert.deepEqual(completion.choices[0]!.message, {
      role: 'assistant',
      content: "There are 3 r's in strawberry.",
      refusal: null,
      reasoning_content: "**Counting the letters**\n\nStrawberry has three r's.",
    })
    assert.deepEqual(completion.usage, usage(12, 134, 4, 125))
  })

  const finishes: [string, string, string | null][] = [
    ['max-tokens.response.json', 'length', 'Once upon a'],
    ['safety-finish.response.json', 'content_filter', 'Here is how you'],
    ['blocked-prompt.response.json', 'content_filter', null],
  ]
  for (const [name, finish, content] of finishes) {
    test(`${name}: finish_reason ${finish}`, () => {
      const completion = translate(name)
      assert.equal(completion.choices.length, 1)
      assert.equal(completion.choices[0]!.finish_reason, finish)
      assert.equal(completion.choices[0]!.message.content, content)
    })
  }

  test('a blocked prompt still reports the prompt tokens', () => {
    assert.deepEqual(translate('blocked-prompt.response.json').usage, usage(11, 0))
  })

  test('two candidates become two choices', () => {
    const completion = translate('two-candidates.response.json')
    assert.deepEqual(
      completion.choices.map((choice) => [choice.index, choice.message.content]),
      [
        [0, 'Red'],
        [1, 'Blue'],
      ],
    )
  })

  test('logprobs', () => {
    const logprobs = translate('logprobs.response.json').choices[0]!.logprobs
    assert.deepEqual(logprobs, {
      content: [
        {
          token: 'Hi',
          logprob: -0.01,
          bytes: [72, 105],
          top_logprobs: [
            { token: 'Hi', logprob: -0.01, bytes: [72, 105] },
            { token: 'Hello', logprob: -4.6, bytes: [72, 101, 108, 108, 111] },
          ],
        },
        {
          token: '!',
          logprob: -0.09,
          bytes: [33],
          top_logprobs: [
            { token: '!', logprob: -0.09, bytes: [33] },
            { token: '.', logprob: -2.5, bytes: [46] },
          ],
        },
      ],
      refusal: null,
    })
  })

  const malformed = ['not json', '[]', '{"candidates": {}}', '{"candidates": [{"content": 3}]}']
  for (const body of malformed) {
    test(`rejects a malformed body: ${body}`, () => {
      assert.throws(
        () => parsePayload(body),
        (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error',
      )
    })
  }

  test('no candidates and no block reason is an upstream error', () => {
    const payload = parsePayload('{"usageMetadata": {"promptTokenCount": 1}}')
    if (payload.type !== 'response') throw new Error('expected a response')
    assert.throws(
      () =>
        fromGeminiResponse(payload.response, {
          fallbackId: 'x',
          created: 0,
          model: 'm',
          newCallId: () => 'c',
        }),
      /no candidates/,
    )
  })
})
