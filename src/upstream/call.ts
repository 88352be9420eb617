/**
 * One attempt against one target: build the upstream request with the provider's adapter, send
 * it through the provider's transport, and turn the answer into a completion or a stream of
 * parts. Shared by every provider; adapters stay pure.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { ChatCompletion, ChatRequest, CompletionUsage, StreamPart } from '../core/chat.ts'
import { GatewayError } from '../core/errors.ts'
import type { ProviderAdapter, TargetContext } from '../providers/types.ts'
import { hasRemoteImageUrls, type ImageInliner } from './inline-images.ts'
import type { Transport } from './transport.ts'

export interface Provider {
  name: string
  kind: string
  adapter: ProviderAdapter
  transport: Transport
  /** Set when the adapter `inlinesImageUrls`: downloads them before `buildRequest`. */
  imageInliner?: ImageInliner | undefined
}

interface CompletionResult {
  type: 'completion'
  /** The body for the client. */
  json: string
  usage: CompletionUsage | undefined
  /** The answer as an object, parsed on demand (a usage estimate needs its text). */
  completion: () => ChatCompletion
  dropped: string[]
}

/** What an attempt hands the client: a completion, or a stream of parts. */
export type AttemptResult =
  | CompletionResult
  | { type: 'stream'; parts: AsyncIterable<StreamPart>; dropped: string[] }

/** What the upstream answered; a stream's parts also tell when they end (the router's hook). */
export type UpstreamResult =
  | CompletionResult
  | { type: 'stream'; parts: StreamParts; dropped: string[] }

/** A stream's parts, and a hook for its end. */
export interface StreamParts extends AsyncIterable<StreamPart> {
  /**
   * `callback` runs once: when a reader is told the stream is done, or stops reading it
   * (`return`); at once if that already happened. One hook at a time.
   */
  onEnd(callback: () => void): void
}

/**
 * Resolves once the upstream has answered with a success status (so a caller can still retry or
 * fall back), or throws a GatewayError. A stream's body is read lazily by the caller.
 */
export async function callTarget(
  provider: Provider,
  request: ChatRequest,
  target: TargetContext,
  signal: AbortSignal,
): Promise<UpstreamResult> {
  const { imageInliner } = provider
  const inlines = imageInliner !== undefined && hasRemoteImageUrls(request)
  const prepared = inlines ? await imageInliner.inline(request, signal) : request
  // The client's text no longer is the request once its images are inlined.
  const built = translate(
    provider,
    prepared,
    inlines ? { ...target, requestText: undefined } : target,
  )
  const response = await provider.transport.send(built.request, signal)
  if (response.status < 200 || response.status >= 300) {
    const body = await response.text().catch(() => '')
    const error = provider.adapter.parseError(response.status, body, response.headers)
    error.upstreamStatus = response.status
    throw error
  }
  if (!target.stream) {
    const text = await response.text()
    const { adapter } = provider
    const forwarded = adapter.forwardResponse?.(text, target)
    if (forwarded !== undefined) {
      return {
        type: 'completion',
        json: forwarded.json,
        usage: forwarded.usage,
        completion: () => adapter.parseResponse(text, target),
        dropped: built.dropped,
      }
    }
    const completion = adapter.parseResponse(text, target)
    return {
      type: 'completion',
      json: JSON.stringify(completion),
      usage: completion.usage ?? undefined,
      completion: () => completion,
      dropped: built.dropped,
    }
  }
  const translator = provider.adapter.createStreamTranslator(target)
  return { type: 'stream', parts: readStream(response.body, translator), dropped: built.dropped }
}

/**
 * The adapter's translation. Validation at the edge checks what the gateway reads, not every
 * nested shape an adapter walks (a tool call that is `null`, an image part whose `image_url` is a
 * list), so an adapter can meet a shape it cannot read. That is the client's request, not the
 * upstream's fault: a 400 that names the provider, never a 502 that would count against the
 * target's circuit breaker.
 */
function translate(provider: Provider, request: ChatRequest, target: TargetContext) {
  try {
    return provider.adapter.buildRequest(request, target)
  } catch (error) {
    if (error instanceof GatewayError) throw error
    const detail = error instanceof Error ? `: ${error.message}` : ''
    throw new GatewayError(
      'invalid_request',
      `The request has a field of a shape provider '${provider.name}' cannot read${detail}`,
      { cause: error },
    )
  }
}

/**
 * The upstream's bytes as stream parts: SSE events parsed, each through the adapter's translator.
 * One upstream read often carries many events; their parts are handed out from a queue, each
 * as an already-settled promise, and the upstream is read again only when the queue is empty.
 * A hand-written iterator rather than an async generator, which would cost every part a
 * generator resume and a microtask turn more.
 */
function readStream(
  body: AsyncIterable<Uint8Array>,
  translator: ReturnType<ProviderAdapter['createStreamTranslator']>,
): StreamParts {
  let queue: StreamPart[] = []
  let index = 0
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      for (const part of translator.push({ event: message.event, data: message.data })) {
        queue.push(part)
      }
    },
  })
  const decoder = new TextDecoder()
  /**
   * Whether the last read may have ended inside a character, or no read came yet (the decoder
   * drops a leading byte-order mark). A read that starts and ends between characters is decoded
   * by node's own `utf8Slice` (`Buffer.toString`): TextDecoder's streaming path checks its
   * options and makes a view of every read, about 500 instructions a read. A read that ends on an
   * ASCII byte leaves the decoder nothing pending, since no character's encoding ends in one.
   */
  let mayBeInside = true
  const decode = (bytes: Uint8Array): string => {
    if (bytes.length === 0) return ''
    const last = bytes[bytes.length - 1]!
    if (!mayBeInside && last < 0x80 && bytes instanceof Buffer) return bytes.toString()
    mayBeInside = last >= 0x80
    return decoder.decode(bytes, { stream: true })
  }
  const bytes = body[Symbol.asyncIterator]()
  /** The upstream ended or failed: what is queued is the last of the stream. */
  let ended = false
  const finished: IteratorResult<StreamPart> = { done: true, value: undefined }
  /** Whether a reader was told the stream is done or stopped reading; `endHook` then ran. */
  let over = false
  let endHook: (() => void) | undefined
  const finish = (): IteratorResult<StreamPart> => {
    if (!over) {
      over = true
      const hook = endHook
      endHook = undefined
      hook?.()
    }
    return finished
  }

  /** The last part of a stream that failed, reading or translating. */
  const fail = (error: unknown): void => {
    queue = [
      {
        type: 'error',
        error:
          error instanceof GatewayError
            ? error
            : new GatewayError('upstream_error', 'Upstream stream failed', { cause: error }),
      },
    ]
    index = 0
    ended = true
  }

  /** The first part the queue holds, the end, or (a read that completed no event) another read. */
  const take = (): IteratorResult<StreamPart> | Promise<IteratorResult<StreamPart>> => {
    if (index < queue.length) return { done: false, value: queue[index++]! }
    if (ended) return finish()
    return bytes.next().then(parse, failed)
  }

  // Never throws: a failure to parse or translate becomes the stream's last part, so the reader
  // is always told the stream is done and the end hook runs.
  const parse = (read: IteratorResult<Uint8Array>) => {
    queue = []
    index = 0
    try {
      if (read.done) {
        ended = true
        parser.feed(decoder.decode())
        queue.push(...translator.end())
      } else parser.feed(decode(read.value))
    } catch (error) {
      fail(error)
    }
    return take()
  }

  const failed = (error: unknown) => {
    fail(error)
    return take()
  }

  // A part already queued goes out as a settled promise; one that needs a read settles with the
  // read's own `then`, which hands it out directly rather than chaining a second promise.
  const next = (): Promise<IteratorResult<StreamPart>> => {
    const result = take()
    return result instanceof Promise ? result : Promise.resolve(result)
  }

  const iterator: AsyncIterator<StreamPart> = {
    next,
    async return() {
      ended = true
      queue = []
      finish()
      await bytes.return?.()
      return finished
    },
  }
  return {
    [Symbol.asyncIterator]: () => iterator,
    onEnd(callback) {
      if (over) callback()
      else endHook = callback
    },
  }
}
