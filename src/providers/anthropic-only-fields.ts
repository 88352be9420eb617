/**
 * Fields that only Anthropic reads, which OpenAI-shaped clients send for Claude: `cache_control`
 * (prompt-cache breakpoints, on a message, a content part, a tool or the request) and `thinking_blocks` (signed
 * thinking sent back on assistant messages). Strict OpenAI-compatible servers refuse a request
 * that carries a field they do not know (Azure, Mistral, hosted vLLM with validation), and a route
 * may fall back from Claude to them mid-conversation, so they are dropped on the way there and
 * named; adapters that build their own body (Gemini) leave them out anyway and only name them.
 */
import type { ChatRequest } from '../core/chat.ts'

type Loose = Record<string, unknown>

/**
 * The Anthropic-only fields a request carries, by name, for `x-switchyard-dropped-params`.
 * Every request to a non-Anthropic provider passes here: the scan allocates nothing when there
 * are none.
 */
export function anthropicOnlyFields(request: ChatRequest): string[] | undefined {
  let thinking = false
  let cache = 'cache_control' in request
  const messages: readonly object[] = request.messages
  for (const message of messages) {
    if ('thinking_blocks' in message) thinking = true
    if ('cache_control' in message) cache = true
    const { content } = message as Loose
    if (Array.isArray(content)) {
      for (const part of content as object[]) if ('cache_control' in part) cache = true
    }
  }
  const tools: readonly object[] | undefined = request.tools
  if (tools !== undefined) for (const tool of tools) if ('cache_control' in tool) cache = true
  if (!thinking && !cache) return undefined
  return [...(cache ? ['cache_control'] : []), ...(thinking ? ['thinking_blocks'] : [])]
}

/** The request without them, for a body sent as the client wrote it; undefined when none. */
export function dropAnthropicFields(
  request: ChatRequest,
): { body: Loose; dropped: string[] } | undefined {
  const dropped = anthropicOnlyFields(request)
  if (dropped === undefined) return undefined
  const messages: readonly object[] = request.messages
  const tools: readonly object[] | undefined = request.tools
  const { cache_control: _cache, ...fields } = request as Loose
  const body: Loose = { ...fields, messages: messages.map(cleanMessage) }
  if (tools !== undefined) body.tools = tools.map(withoutCacheControl)
  return { body, dropped }
}

function cleanMessage(message: object): Loose {
  const { thinking_blocks: _thinking, cache_control: _cache, ...rest } = message as Loose
  if (Array.isArray(rest.content)) rest.content = rest.content.map(withoutCacheControl)
  return rest
}

function withoutCacheControl(part: object): object {
  if (!('cache_control' in part)) return part
  const { cache_control: _cache, ...rest } = part as Loose
  return rest
}
