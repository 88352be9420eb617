/**
 * Wire types of the Anthropic Messages API as this adapter sends and reads them. They come from
 * the official SDK, type-only, so the compiler checks every field we write or read.
 */
import type {
  ContentBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  RedactedThinkingBlockParam,
  ThinkingBlockParam,
} from '@anthropic-ai/sdk/resources/messages'
import type { ChatCompletion, ChatCompletionChunk } from '../../core/chat.ts'

export type {
  CacheControlEphemeral,
  ContentBlock,
  ContentBlockParam,
  Message,
  MessageParam,
  RawMessageStreamEvent,
  StopReason,
  TextBlockParam,
  Tool,
  ToolChoice,
  Usage,
} from '@anthropic-ai/sdk/resources/messages'

/**
 * The request body. API version 2023-06-01 (our default) still takes the sampling parameters
 * that the SDK's types dropped when version 2026-10-21 stopped accepting them.
 */
export type AnthropicRequestBody = Omit<
  MessageCreateParamsBase,
  'user_profile_id' | 'workspace_id'
> & {
  stream?: boolean
  temperature?: number
  top_p?: number
  top_k?: number
}

/** A user or assistant turn as built here: always an array of blocks, so turns can be merged. */
export interface AnthropicTurn {
  role: Extract<MessageParam['role'], 'user' | 'assistant'>
  content: ContentBlockParam[]
}

/** `{ "type": "error", "error": { "type", "message" } }`, as an HTTP body or an `error` event. */
export interface AnthropicErrorBody {
  type: 'error'
  error: { type: string; message: string }
}

/**
 * A Claude thinking block with what Anthropic needs to accept it back: the signature of a
 * `thinking` block, the encrypted `data` of a `redacted_thinking` one. With thinking on, a tool
 * loop must send the assistant turn's thinking blocks back unchanged, so they are exposed as
 * `thinking_blocks` on the message (and once complete, on a delta) and read back from assistant
 * messages: the shape LiteLLM uses, so clients written for it work.
 */
export type ThinkingBlock = ThinkingBlockParam | RedactedThinkingBlockParam

/**
 * `reasoning_content` is the gateway's one field for reasoning text, in messages and deltas,
 * across every adapter (the name DeepSeek and vLLM use); the OpenAI types do not have it.
 */
export type MessageWithReasoning = ChatCompletion.Choice['message'] & {
  reasoning_content?: string
  thinking_blocks?: ThinkingBlock[]
}
export type DeltaWithReasoning = ChatCompletionChunk.Choice['delta'] & {
  reasoning_content?: string
  thinking_blocks?: ThinkingBlock[]
}
