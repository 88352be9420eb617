/** The mock model's answers: pure functions of the request, so tests can predict them. */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  CompletionUsage,
} from '../../core/chat.ts'

export interface MockReply {
  completion: ChatCompletion
  chunks: ChatCompletionChunk[]
}

export function mockReply(request: ChatRequest, now: number): MockReply {
  const text = lastUserText(request) || 'Hello from the Switchyard mock model.'
  const words = text.split(/(?<=\s)/)
  const choices = Math.max(1, Math.min(Number(request.n ?? 1) || 1, 8))
  const id = `chatcmpl-mock-${now.toString(36)}`
  const created = Math.floor(now / 1000)
  const model = String(request.model)
  const usage: CompletionUsage = {
    prompt_tokens: countWords(request),
    completion_tokens: words.length * choices,
    total_tokens: 0,
  }
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens

  const completion: ChatCompletion = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: Array.from({ length: choices }, (_, index) => ({
      index,
      message: { role: 'assistant', content: text, refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    })),
    usage,
  }

  const chunk = (
    index: number,
    delta: ChatCompletionChunk.Choice['delta'],
    finish: ChatCompletionChunk.Choice['finish_reason'],
  ): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index, delta, finish_reason: finish, logprobs: null }],
  })
  const chunks: ChatCompletionChunk[] = []
  for (let index = 0; index < choices; index++) {
    chunks.push(chunk(index, { role: 'assistant', content: '' }, null))
    for (const word of words) chunks.push(chunk(index, { content: word }, null))
    chunks.push(chunk(index, {}, 'stop'))
  }
  const options = request.stream_options as { include_usage?: boolean } | null | undefined
  if (options?.include_usage) {
    chunks.push({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })
  }
  return { completion, chunks }
}

function lastUserText(request: ChatRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index]
    if (message?.role !== 'user') continue
    if (typeof message.content === 'string') return message.content
    return message.content
      .map((part) => (part.type === 'text' ? part.text : ''))
      .join(' ')
      .trim()
  }
  return ''
}

function countWords(request: ChatRequest): number {
  let count = 0
  for (const message of request.messages) {
    const content = 'content' in message ? message.content : undefined
    if (typeof content === 'string') count += content.split(/\s+/).filter(Boolean).length
    else if (Array.isArray(content)) count += content.length
    count += 1
  }
  return count
}
