import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { newRequestId } from './request-id.ts'

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('request ids', () => {
  test('are version 4 UUIDs, distinct across several refills of the entropy', () => {
    const seen = new Set<string>()
    for (let count = 0; count < 1000; count++) {
      const id = newRequestId()
      assert.match(id, uuidV4)
      seen.add(id)
    }
    assert.equal(seen.size, 1000)
  })

  test('every hex digit turns up in every digit position that is random', () => {
    const digits = Array.from({ length: 36 }, () => new Set<string>())
    for (let count = 0; count < 2000; count++) {
      const id = newRequestId()
      for (let at = 0; at < 36; at++) digits[at]!.add(id[at]!)
    }
    for (let at = 0; at < 36; at++) {
      const expected = [8, 13, 18, 23].includes(at) ? 1 : at === 14 ? 1 : at === 19 ? 4 : 16
      assert.equal(digits[at]!.size, expected, `position ${at}`)
    }
  })
})
