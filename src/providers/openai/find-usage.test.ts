import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { findUsage } from './find-usage.ts'
import { createOpenAICompatibleAdapter } from './index.ts'

const usage = {
  prompt_tokens: 19,
  completion_tokens: 10,
  total_tokens: 29,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, accepted_prediction_tokens: 0 },
}

function completionText(content: string, withUsage: unknown = usage): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      { index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null },
    ],
    usage: withUsage,
    system_fingerprint: 'fp_1',
  })
}

describe('findUsage', () => {
  test('reads the top-level usage, nested details included', () => {
    assert.deepEqual(findUsage(completionText('Hello')), { usage })
  })

  test('a content that spells out a usage object is text, not the key', () => {
    const text = completionText('{"usage": {"prompt_tokens": 1, "completion_tokens": 2}} "usage"')
    assert.deepEqual(findUsage(text), { usage })
  })

  test('no usage, or a null one, is an answer without usage', () => {
    assert.deepEqual(findUsage(completionText('Hi', null)), { usage: null })
    assert.deepEqual(findUsage('{"choices":[]}'), { usage: null })
  })

  test('pretty-printed JSON is read too', () => {
    const text = JSON.stringify(JSON.parse(completionText('Hi')), null, 2)
    assert.deepEqual(findUsage(text), { usage })
  })

  test('anything else is left to a full parse', () => {
    assert.equal(findUsage('{"choices":[],"usage":5}'), undefined)
    assert.equal(findUsage('{"choices":[],"usage":{"prompt_tokens":1,'), undefined)
    assert.equal(
      findUsage('{"choices":[],"usage":{"prompt_tokens":"1","completion_tokens":2}}'),
      undefined,
    )
    assert.equal(
      findUsage('{"choices":[],"usage":{"prompt_tokens":1 "completion_tokens":2}}'),
      undefined,
    )
  })
})

describe('forwardResponse (kind: openai)', () => {
  const adapter = createOpenAICompatibleAdapter({
    baseUrl: 'http://127.0.0.1:9/v1',
    authHeaders: {},
    streamUsage: true,
    secrets: [],
    label: 'test',
  })
  const target = {
    upstreamModel: 'gpt-4o-mini',
    requestedModel: 'my-alias',
    stream: false,
    clientWantsUsage: false,
  }

  test('the upstream text is kept byte for byte, with only the model rewritten', () => {
    const text = completionText('Model "gpt-4o-mini-2024-07-18" said hi')
    const forwarded = adapter.forwardResponse?.(text, target)
    assert.ok(forwarded)
    assert.equal(
      forwarded.json,
      text.replace('"model":"gpt-4o-mini-2024-07-18"', '"model":"my-alias"'),
    )
    assert.deepEqual(forwarded.usage, usage)
    // The same answer parsed the slow way is the same object.
    assert.deepEqual(JSON.parse(forwarded.json), adapter.parseResponse(text, target))
  })

  test('a body that does not look like a chat completion goes to parseResponse', () => {
    assert.equal(adapter.forwardResponse?.('{"id":"x","model":"m"}', target), undefined)
    assert.equal(adapter.forwardResponse?.('{"choices":[],"usage":null}', target), undefined)
    assert.equal(
      adapter.forwardResponse?.('{"choices":[],"model":"m","usage":7}', target),
      undefined,
    )
  })
})
