import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { withUpstreamModel } from './request-text.ts'

const swap = (text: string) => withUpstreamModel(text, JSON.parse(text) as object, 'up/model-1')

describe('withUpstreamModel', () => {
  test('replaces only the top-level model value, wherever the key is', () => {
    assert.equal(swap('{"model":"a","messages":[]}'), '{"model":"up/model-1","messages":[]}')
    assert.equal(
      swap('{"messages":[{"role":"user","content":"hi"}],\n "model" : "a" }'),
      '{"messages":[{"role":"user","content":"hi"}],\n "model" : "up/model-1" }',
    )
  })

  test('skips strings by their quotes, escaped quotes and backslashes included', () => {
    // A content ending in a backslash, then a quote inside text, then nested "model" keys.
    const text = String.raw`{"messages":[{"content":"a\\"},{"content":"\"model\":\"x\""}],"tools":[{"model":"b"}],"model":"a\"q"}`
    const swapped = swap(text)
    assert.equal(swapped, text.replace(String.raw`"model":"a\"q"`, '"model":"up/model-1"'))
    assert.deepEqual(JSON.parse(swapped!), { ...JSON.parse(text), model: 'up/model-1' })
  })

  test('answers undefined when the top-level model cannot be read one way only', () => {
    // Written twice, or once with an escape in the key, or not as a string.
    assert.equal(swap('{"model":"a","model":"b"}'), undefined)
    assert.equal(swap(String.raw`{"model":"a","mod\u0065l":"a"}`), undefined)
    assert.equal(swap(String.raw`{"mod\u0065l":"a"}`), undefined)
    assert.equal(swap('{"model":7}'), undefined)
    // Only nested: the top level has none.
    assert.equal(swap('{"metadata":{"model":"a"}}'), undefined)
  })
})
