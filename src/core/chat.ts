/**
 * The canonical shapes of the request path. The gateway speaks the OpenAI chat API, so the
 * canonical request, response and stream chunk are OpenAI's own types; native adapters translate
 * to and from them.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions'
import type { CompletionUsage } from 'openai/resources/completions'
import type { GatewayError } from './errors.ts'

export type { ChatCompletion, ChatCompletionChunk, CompletionUsage }

/**
 * A chat request as the client sent it, after validation. Unknown fields are kept: they pass
 * through to OpenAI-compatible upstreams untouched.
 */
export type ChatRequest = ChatCompletionCreateParams & Record<string, unknown>

export type FinishReason = ChatCompletion.Choice['finish_reason']

/**
 * What a stream translator yields. `chunk` is serialised by the one SSE writer; `raw` is an
 * upstream chunk that is already OpenAI-shaped and is written as is (no parse and re-serialise
 * on the pass-through path).
 */
export type StreamPart =
  | { type: 'chunk'; chunk: ChatCompletionChunk }
  | { type: 'raw'; data: string; usage?: CompletionUsage | undefined }
  | { type: 'error'; error: GatewayError }
  /** Usage the client did not ask to see; recorded, never written. */
  | { type: 'usage'; usage: CompletionUsage }
