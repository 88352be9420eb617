/** Anthropic's `stop_reason` as OpenAI's `finish_reason`. */
import type { FinishReason } from '../../core/chat.ts'
import type { StopReason } from './types.ts'

/**
 * `answeredWithJsonTool`: the only tool called was the JSON-answer tool, whose input the client
 * receives as content, so for the client the answer simply stopped.
 */
export function mapFinishReason(
  reason: StopReason | null,
  answeredWithJsonTool = false,
): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length'
    case 'tool_use':
      return answeredWithJsonTool ? 'stop' : 'tool_calls'
    case 'refusal':
      return 'content_filter'
    default:
      // end_turn, stop_sequence, pause_turn (a server tool paused the turn) and null
      return 'stop'
  }
}
