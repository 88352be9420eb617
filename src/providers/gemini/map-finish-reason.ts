/** Gemini's finish reasons to OpenAI's five. */
import type { FinishReason } from '../../core/chat.ts'
import type { GeminiFinishReason } from './wire-types.ts'

const contentFilter = new Set<GeminiFinishReason>([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
])

/**
 * Gemini says STOP after function calls too; OpenAI clients loop on `tool_calls`. Reasons with
 * no OpenAI equivalent (OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, …) end the turn as `stop`.
 */
export function mapFinishReason(reason: GeminiFinishReason, madeToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS' || reason === 'CONTINUATION') return 'length'
  if (contentFilter.has(reason)) return 'content_filter'
  return madeToolCalls ? 'tool_calls' : 'stop'
}
