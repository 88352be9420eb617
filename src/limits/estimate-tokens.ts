/**
 * The token estimate a request is admitted on, before any upstream has counted anything. It must
 * be cheap (no tokenizer on the hot path), so it reads only lengths: message text at about four
 * characters per token, a few tokens of framing per message, a flat charge per image or audio
 * part, and the completion the client allows (`max_completion_tokens`, else `max_tokens`, else a
 * small default) times `n`. The real usage settles the difference after the call.
 */
import type { ChatRequest } from '../core/chat.ts'

const charactersPerToken = 4
const tokensPerMessage = 4
const tokensPerMediaPart = 256
export const defaultCompletionTokens = 256

export function estimateTokens(request: ChatRequest): number {
  let characters = 0
  let tokens = 0
  for (const message of request.messages) {
    tokens += tokensPerMessage
    const content: unknown = message.content
    if (typeof content === 'string') characters += content.length
    else if (Array.isArray(content)) {
      for (const part of content as unknown[]) {
        const text = (part as { text?: unknown } | null)?.text
        if (typeof text === 'string') characters += text.length
        else tokens += tokensPerMediaPart
      }
    }
    if ('tool_calls' in message && Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls as { function?: { arguments?: unknown } }[]) {
        const argumentsText = call.function?.arguments
        if (typeof argumentsText === 'string') characters += argumentsText.length
      }
    }
  }
  const completion = positive(request.max_completion_tokens) ?? positive(request.max_tokens)
  const choices = Math.min(Math.max(positive(request.n) ?? 1, 1), 128)
  return (
    tokens +
    Math.ceil(characters / charactersPerToken) +
    (completion ?? defaultCompletionTokens) * choices
  )
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined
}
