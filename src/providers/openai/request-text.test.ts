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

  test('given ASCII bytes, answers those bytes with the model swapped', () => {
    const text = '{"messages":[{"role":"user","content":"hi"}],"model":"a","n":1}'
    const bytes = Buffer.from(text)
    const swapped = withUpstreamModel(text, JSON.parse(text) as object, 'up/mødel', bytes)
    assert.ok(Buffer.isBuffer(swapped))
    assert.equal(
      swapped.toString('utf8'),
      '{"messages":[{"role":"user","content":"hi"}],"model":"up/mødel","n":1}',
    )
    // The client's buffer is left as it was.
    assert.equal(bytes.toString('utf8'), text)
  })

  test('given bytes that are not ASCII, answers text, since offsets differ', () => {
    const text = '{"messages":[{"role":"user","content":"héllo"}],"model":"a"}'
    const swapped = withUpstreamModel(text, JSON.parse(text) as object, 'b', Buffer.from(text))
    assert.equal(swapped, '{"messages":[{"role":"user","content":"héllo"}],"model":"b"}')
  })

  test('given invalid UTF-8, answers the text the gateway decoded, not the raw bytes', () => {
    // 0xFF decodes to U+FFFD: one character for one byte, so the lengths alone agree.
    const bytes = Buffer.concat([
      Buffer.from('{"model":"a","x":"'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ])
    const text = bytes.toString('utf8')
    assert.equal(text.length, bytes.length)
    const swapped = withUpstreamModel(text, JSON.parse(text) as object, 'b', bytes)
    assert.equal(swapped, '{"model":"b","x":"\uFFFD"}')
  })
})
