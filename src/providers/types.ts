/**
 * The one small interface every provider adapter implements. Adapters are pure: they turn the
 * canonical (OpenAI-shaped) request into a description of an upstream HTTP request, and upstream
 * bodies and events back into canonical responses and stream parts. They never do I/O, retries or
 * logging; the shared plumbing in `src/upstream/` does.
 */
import type { z } from 'zod'
import type { ChatCompletion, ChatRequest, CompletionUsage, StreamPart } from '../core/chat.ts'
import type { GatewayError } from '../core/errors.ts'
import type { Transport } from '../upstream/transport.ts'

export interface UpstreamRequest {
  method: 'POST' | 'GET'
  /** Scheme, host and port, e.g. `https://api.openai.com`. */
  origin: string
  /** Path and query, e.g. `/v1/chat/completions`. */
  path: string
  headers: Record<string, string>
  body: string
}

/** What one attempt against one target needs to know besides the request itself. */
export interface TargetContext {
  /** The model name sent upstream. */
  upstreamModel: string
  /** The model id the client asked for; responses carry it in `model`. */
  requestedModel: string
  stream: boolean
  /** The client asked for a usage chunk (`stream_options.include_usage`). */
  clientWantsUsage: boolean
  /**
   * The request body as the client sent it, while the request is that body unchanged (no
   * override parameters, no inlined images): an adapter that would only swap the model can
   * forward it instead of serialising the request again.
   */
  requestText?: string | undefined
}

export interface BuiltRequest {
  request: UpstreamRequest
  /** Request parameters the provider has no equivalent for, dropped rather than sent to fail. */
  dropped: string[]
}

/** A server-sent event as read from the upstream, before any JSON parsing. */
/** An answer forwarded as the upstream's own JSON text, with only `model` rewritten. */
export interface ForwardedCompletion {
  /** The body for the client. */
  json: string
  usage: CompletionUsage | undefined
}

export interface SseEvent {
  event: string | undefined
  data: string
}

export interface StreamTranslator {
  /** One upstream event in, zero or more parts out, as soon as it arrives. */
  push(event: SseEvent): StreamPart[]
  /** The upstream body ended; anything still held goes out now. */
  end(): StreamPart[]
}

export interface ProviderAdapter {
  /**
   * The provider cannot fetch `http(s)` image URLs itself: the shared plumbing downloads them
   * (size-capped, never from loopback or private addresses) and inlines them as data URLs before
   * `buildRequest` sees the request.
   */
  readonly inlinesImageUrls?: boolean
  buildRequest(request: ChatRequest, target: TargetContext): BuiltRequest
  parseResponse(body: string, target: TargetContext): ChatCompletion
  /**
   * Pass-through adapters: the answer as the upstream's own text with `model` rewritten and its
   * usage read out, without parsing and re-serialising the rest. Undefined when the text does not
   * look like a chat completion; the shared plumbing then calls `parseResponse`, which says why.
   */
  forwardResponse?(body: string, target: TargetContext): ForwardedCompletion | undefined
  createStreamTranslator(target: TargetContext): StreamTranslator
  /** Maps an upstream error status and body to a gateway error; never echoes a credential. */
  parseError(
    status: number,
    body: string,
    headers: Record<string, string | undefined>,
  ): GatewayError
}

/** One provider kind: its config schema and how to build its adapter from a validated config. */
export interface ProviderDefinition<Config extends { kind: string } = { kind: string }> {
  kind: Config['kind']
  configSchema: z.ZodType<Config>
  createAdapter(config: Config): ProviderAdapter
  /** Providers answered in process (the mock) bring their own transport instead of HTTP. */
  createTransport?(config: Config): Transport
}
