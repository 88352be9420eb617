/**
 * Anthropic usage as OpenAI usage. Anthropic counts cached input apart from `input_tokens`;
 * OpenAI's `prompt_tokens` includes it, with the cache hits repeated in `cached_tokens`.
 */
import type { CompletionUsage } from '../../core/chat.ts'

export interface AnthropicTokenCounts {
  input_tokens: number | null
  output_tokens: number | null
  cache_read_input_tokens?: number | null
  cache_creation_input_tokens?: number | null
  output_tokens_details?: { thinking_tokens: number } | null
}

export function mapUsage(usage: AnthropicTokenCounts): CompletionUsage {
  const cached = usage.cache_read_input_tokens ?? 0
  const promptTokens = (usage.input_tokens ?? 0) + cached + (usage.cache_creation_input_tokens ?? 0)
  const completionTokens = usage.output_tokens ?? 0
  const mapped: CompletionUsage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cached },
  }
  const thinking = usage.output_tokens_details?.thinking_tokens
  if (typeof thinking === 'number')
    mapped.completion_tokens_details = { reasoning_tokens: thinking }
  return mapped
}
