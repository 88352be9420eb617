import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChatRequest } from '../core/chat.ts'
import { keptChunkLimit } from '../server/sse.ts'
import { estimateStreamUsage, streamedText } from './estimate-usage.ts'

const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Count to many' }] }

function chunk(delta: Record<string, unknown>): string {
  return JSON.stringify({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: null }],
  })
}

/** A role chunk, then `words` chunks of one token each, as an OpenAI-style upstream streams. */
function stream(words: number): string[] {
  const chunks = [chunk({ role: 'assistant', content: '' })]
  for (let index = 0; index < words; index++) chunks.push(chunk({ content: ' word' }))
  return chunks
}

describe('estimateStreamUsage', () => {
  test('every chunk kept: the completion is counted exactly', async () => {
    const chunks = stream(10)
    const usage = await estimateStreamUsage(request, { chunks, chunkCount: chunks.length })
    assert.equal(usage?.completion_tokens, 10)
    assert.equal(streamedText(chunks), ' word'.repeat(10))
  })

  test('a long stream is estimated from the kept sample, scaled by the chunks written', async () => {
    const all = stream(400)
    const kept = all.slice(0, keptChunkLimit)
    const usage = await estimateStreamUsage(request, { chunks: kept, chunkCount: all.length })
    assert.ok(usage !== undefined)
    // 400 tokens were written; the sample holds the role chunk and 15 of them.
    assert.ok(
      Math.abs(usage.completion_tokens - 400) <= 40,
      `estimated ${usage.completion_tokens} completion tokens for 400`,
    )
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens)
  })
})
