import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ChatCompletion } from '../core/chat.ts'
import { CompletionAssembler } from './assemble-completion.ts'
import { replayCompletion } from './replay-completion.ts'

const answer: ChatCompletion = {
  id: 'chatcmpl-9',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  system_fingerprint: 'fp_1',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Two answers', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    },
    {
      index: 1,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
          { id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } },
        ],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
}

test('a completion replayed as chunks assembles back into itself', () => {
  const assembler = new CompletionAssembler()
  for (const chunk of replayCompletion(answer, true)) assembler.add(chunk)
  assert.deepEqual(assembler.completion(), answer)
})

test('the replay sends usage only when asked', () => {
  const chunks = replayCompletion(answer, false)
  assert.equal(
    chunks.some((chunk) => chunk.usage),
    false,
  )
  assert.deepEqual(
    chunks.at(-1)?.choices.map((choice) => choice.finish_reason),
    ['stop', 'tool_calls'],
  )
})

test('deltas are joined: text fields concatenated, tool-call arguments by index', () => {
  const assembler = new CompletionAssembler()
  const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 1, model: 'm' }
  assembler.add({
    ...base,
    choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }],
  })
  assembler.add({
    ...base,
    choices: [
      {
        index: 0,
        delta: { content: 'lo', reasoning_content: 'think' } as never,
        finish_reason: null,
      },
    ],
  })
  assembler.add({
    ...base,
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{"a"' } }],
        },
        finish_reason: null,
      },
    ],
  })
  assembler.add({
    ...base,
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] },
        finish_reason: 'tool_calls',
      },
    ],
  })
  const message = assembler.completion()?.choices[0]?.message as unknown as Record<string, unknown>
  assert.equal(message.content, 'Hello')
  assert.equal(message.reasoning_content, 'think')
  assert.deepEqual(message.tool_calls, [
    { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
  ])
})

test('a stream that never finished assembles into nothing', () => {
  const assembler = new CompletionAssembler()
  assembler.add({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content: 'cut' }, finish_reason: null }],
  })
  assert.equal(assembler.completion(), undefined)
})
