/** OpenAI wire-format samples, shaped like the API reference's examples. */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions'

export function completion(
  model: string,
  content: string,
  extra: Partial<ChatCompletion> = {},
): ChatCompletion {
  return {
    id: 'chatcmpl-123',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
    ...extra,
  }
}

export function chunk(
  model: string,
  delta: ChatCompletionChunk.Choice['delta'],
  finish: ChatCompletionChunk.Choice['finish_reason'] = null,
  index = 0,
): ChatCompletionChunk {
  return {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model,
    choices: [{ index, delta, finish_reason: finish, logprobs: null }],
  }
}

export function usageChunk(model: string): ChatCompletionChunk {
  return {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model,
    choices: [],
    usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
  }
}

/** A streamed answer: role chunk, one chunk per word, finish chunk, optional usage, [DONE]. */
export function streamEvents(
  model: string,
  words: string[],
  withUsage: boolean,
): { data: unknown }[] {
  const events: { data: unknown }[] = [{ data: chunk(model, { role: 'assistant', content: '' }) }]
  for (const word of words) events.push({ data: chunk(model, { content: word }) })
  events.push({ data: chunk(model, {}, 'stop') })
  if (withUsage) events.push({ data: usageChunk(model) })
  events.push({ data: '[DONE]' })
  return events
}
