/**
 * Token counts for answers whose upstream reported none, so the usage log and budgets still see
 * them (marked as estimated). The tokenizer (cl100k, pure JS, ~16 MB of tables) is loaded on the
 * first estimate only, so a gateway whose upstreams report usage never pays for it. Counts follow
 * the OpenAI chat format (a few tokens of framing per message); for other model families they
 * are an approximation, which is what the `estimated` flag says.
 */
import type { ChatCompletion, ChatRequest, CompletionUsage } from '../core/chat.ts'

type CountTokens = (text: string) => number

let tokenizer: Promise<CountTokens> | undefined

function loadTokenizer(): Promise<CountTokens> {
  tokenizer ??= import('gpt-tokenizer/encoding/cl100k_base').then((module) => {
    // Client text may contain special-token spellings (`<|endoftext|>`); count them as text.
    const options = { disallowedSpecial: new Set<string>() }
    return (text: string) => (text.length === 0 ? 0 : module.countTokens(text, options))
  })
  return tokenizer
}

/** Framing tokens per message and for the reply's priming, as in OpenAI's chat format. */
const tokensPerMessage = 3
const replyPriming = 3
/** A low-detail image; the real count depends on size and detail, which we do not fetch. */
const tokensPerImage = 85

/** Resolves to undefined only if the tokenizer cannot load: an estimate must never fail a request. */
export async function estimateUsage(
  request: ChatRequest,
  completionText: string,
): Promise<CompletionUsage | undefined> {
  let count: CountTokens
  try {
    count = await loadTokenizer()
  } catch {
    return undefined
  }
  let prompt = replyPriming
  for (const message of request.messages) {
    prompt += tokensPerMessage + count(message.role)
    if ('name' in message && typeof message.name === 'string') prompt += count(message.name) + 1
    const content = 'content' in message ? message.content : undefined
    if (typeof content === 'string') prompt += count(content)
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'text') prompt += count(part.text)
        else if (part.type === 'refusal') prompt += count(part.refusal)
        else prompt += tokensPerImage
      }
    }
    if ('tool_calls' in message && message.tool_calls)
      prompt += count(JSON.stringify(message.tool_calls))
  }
  if (request.tools) prompt += count(JSON.stringify(request.tools))
  const completion = count(completionText)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** The generated text of an unstreamed answer: contents, refusals and tool-call arguments. */
export function completionText(completion: ChatCompletion): string {
  let text = ''
  for (const choice of completion.choices) {
    const { message } = choice
    text += (message.content ?? '') + (message.refusal ?? '')
    for (const call of message.tool_calls ?? []) {
      if (call.type === 'function') text += call.function.name + call.function.arguments
    }
  }
  return text
}

interface ChunkDelta {
  content?: unknown
  refusal?: unknown
  reasoning_content?: unknown
  tool_calls?: { function?: { name?: unknown; arguments?: unknown } }[]
}

/**
 * The generated text of a stream, from the chunks' JSON as written. Parsed here, after the
 * stream, and only for streams that ended without usage.
 */
export function streamedText(chunks: readonly string[]): string {
  let text = ''
  const add = (value: unknown) => {
    if (typeof value === 'string') text += value
  }
  for (const data of chunks) {
    let parsed: { choices?: { delta?: ChunkDelta }[] }
    try {
      parsed = JSON.parse(data) as typeof parsed
    } catch {
      continue
    }
    for (const choice of parsed.choices ?? []) {
      const delta = choice.delta
      if (delta === undefined || delta === null) continue
      add(delta.content)
      add(delta.refusal)
      add(delta.reasoning_content)
      for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        add(call.function?.name)
        add(call.function?.arguments)
      }
    }
  }
  return text
}

/** A stream's usage from what was written; past the kept chunks, completion tokens scale up. */
export async function estimateStreamUsage(
  request: ChatRequest,
  stream: { chunks: readonly string[]; chunkCount: number },
): Promise<CompletionUsage | undefined> {
  const usage = await estimateUsage(request, streamedText(stream.chunks))
  if (usage === undefined || stream.chunkCount <= stream.chunks.length) return usage
  const completion = Math.round(
    (usage.completion_tokens * stream.chunkCount) / stream.chunks.length,
  )
  return { ...usage, completion_tokens: completion, total_tokens: usage.prompt_tokens + completion }
}
