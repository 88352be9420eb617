import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { deserialize, serialize } from 'node:v8'
import { decodeValues, encodeValues } from './sqlite-batch-codec.ts'

describe('the SQLite writer thread’s batch codec', () => {
  test('every value comes back as it went, through a structured clone', () => {
    const values = [
      1795701941000,
      '2026-11-26',
      null,
      0,
      -1,
      -2,
      0.000_014_8,
      Number.MAX_SAFE_INTEGER,
      '',
      'modèle 🚀',
      '2026-11-26',
      null,
      Number.NaN,
      -0,
    ]
    const decoded = decodeValues(deserialize(serialize(encodeValues(values, 7))))
    assert.deepEqual(decoded, values)
    assert.ok(Object.is(decoded[13], -0))
  })

  test('a string equal to the one above it in its column is sent once', () => {
    const rows = Array.from({ length: 50 }, (_, row) => [
      `request ${row}`,
      'bench-fast',
      row < 25 ? 'mock' : 'other',
      // Equal to the row above's in another column: sent again.
      row % 2 === 0 ? 'bench-fast' : `${row}`,
      row,
    ])
    const encoded = encodeValues(rows.flat(), 5)
    assert.equal(encoded.texts.length, 50 + 1 + 2 + 50)
    assert.deepEqual(decodeValues(encoded), rows.flat())
  })

  test('an empty batch', () => {
    assert.deepEqual(decodeValues(encodeValues([], 3)), [])
  })
})
