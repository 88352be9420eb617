import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mapFinishReason } from './map-finish-reason.ts'
import type { GeminiFinishReason } from './wire-types.ts'

test('mapFinishReason', () => {
  const table: [GeminiFinishReason, boolean, string][] = [
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    ['OTHER', false, 'stop'],
    ['FINISH_REASON_UNSPECIFIED', false, 'stop'],
  ]
  for (const [reason, madeToolCalls, expected] of table) {
    assert.equal(mapFinishReason(reason, madeToolCalls), expected, `${reason} ${madeToolCalls}`)
  }
})
