/**
 * Gemini's usage metadata to OpenAI usage. Thinking tokens are billed as output, so they count
 * in completion_tokens (and in reasoning_tokens), as OpenAI counts its reasoning tokens; tokens
 * of server-side tool results are input.
 */
import type { CompletionUsage } from '../../core/chat.ts'
import type { GeminiUsageMetadata } from './wire-types.ts'

export function mapUsage(metadata: GeminiUsageMetadata): CompletionUsage {
  const promptTokens = (metadata.promptTokenCount ?? 0) + (metadata.toolUsePromptTokenCount ?? 0)
  const reasoningTokens = metadata.thoughtsTokenCount ?? 0
  const completionTokens = (metadata.candidatesTokenCount ?? 0) + reasoningTokens
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: metadata.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  }
}

/** Streams repeat usageMetadata on every event; only the one with token counts is final. */
export function hasTokenCounts(metadata: GeminiUsageMetadata | undefined): boolean {
  return metadata?.promptTokenCount !== undefined || metadata?.totalTokenCount !== undefined
}
