import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { hasKey, modelFieldFor, rewriteModel, StreamModelRewriter } from './rewrite-model.ts'

const chunk = (id: string, model: string, content: string) =>
  JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    model,
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })

describe('StreamModelRewriter', () => {
  test('rewrites every chunk as rewriteModel does, where the field moves or changes too', () => {
    const field = modelFieldFor('small')
    const rewriter = new StreamModelRewriter(field)
    const chunks = [
      chunk('a1', 'gpt-4o', 'Hel'),
      chunk('a2', 'gpt-4o', 'lo'),
      // The id grows: the field moves.
      chunk('a1000', 'gpt-4o', ' "model":"gpt-4o" in text'),
      // The same place, a longer value: the remembered field ends with its quote, so it misses.
      chunk('a1001', 'gpt-4o-mini', '!'),
      chunk('a1002', 'gpt-4o', '?'),
      '{"id":"x","choices":[]}',
    ]
    for (const data of chunks) {
      const rewritten = rewriter.rewrite(data)
      assert.equal(rewritten, rewriteModel(data, field))
      const parsed = JSON.parse(data) as { model?: string }
      assert.deepEqual(
        JSON.parse(rewritten),
        parsed.model === undefined ? parsed : { ...parsed, model: 'small' },
      )
    }
  })
})

describe('hasKey', () => {
  test('finds a key by the text after its opening quote, never an escaped or longer one', () => {
    assert.equal(hasKey('{"choices":[{"finish_reason":"stop"}]}', 'finish_reason":"'), true)
    assert.equal(hasKey('{"choices":[{"finish_reason":null}]}', 'finish_reason":"'), false)
    assert.equal(hasKey('{"xfinish_reason":"stop"}', 'finish_reason":"'), false)
    assert.equal(
      hasKey(String.raw`{"content":"\"finish_reason\":\"stop"}`, 'finish_reason":"'),
      false,
    )
    // A longer key first, then the real one.
    assert.equal(hasKey('{"my_usage":{},"usage":{"total_tokens":1}}', 'usage":{'), true)
    assert.equal(hasKey('usage":{', 'usage":{'), false)
  })
})
