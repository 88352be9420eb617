/**
 * One upstream HTTP exchange driven by undici's dispatch handler API: the response body arrives
 * as Buffers pushed into a small queue, read either whole (`text()`) or chunk by chunk (the async
 * iterator), with no Readable stream in between. A Readable plus its async iterator cost more CPU
 * per request than the rest of the transport; streams pay it once per chunk.
 *
 * Back-pressure: when more than `highWaterChunks` chunks wait unread, the upstream socket is paused
 * until the reader catches up. Abandoning the iterator (a `break`, a client gone) aborts upstream.
 *
 * It implements the handler callbacks undici's HTTP/1 client calls itself (`onConnect`,
 * `onHeaders` with the raw header lines, `onData`, `onComplete`, `onError`), which undici's types
 * mark deprecated in favour of `onRequestStart`/`onResponseStart`/…. A handler with the newer
 * callbacks is wrapped by undici in an adapter that parses every response's header lines into a
 * record first: about 13.6k instructions per request (callgrind), for headers a success never
 * reads. Here the raw lines are kept and parsed only when read.
 */
import type { Dispatcher } from 'undici'
import type { GatewayError } from '../core/errors.ts'
import { whenAborted } from '../core/request-abort.ts'
import type { UpstreamResponse } from './transport.ts'

/** The callbacks of undici's `Dispatcher.DispatchHandler` this exchange implements. */
type RawDispatchHandler = Required<
  Pick<Dispatcher.DispatchHandler, 'onConnect' | 'onHeaders' | 'onData' | 'onComplete' | 'onError'>
>

const highWaterChunks = 64
const lowWaterChunks = 8

/**
 * The exchange is both undici's handler and the response its caller reads: one object per
 * upstream call, with the body's iterator and the headers on the prototype. The headers are
 * parsed into a flat record only when read (error answers); a success never reads them.
 */
export class UpstreamExchange implements RawDispatchHandler, UpstreamResponse {
  status = 0
  #rawHeaders: Buffer[] | undefined
  #headers: Record<string, string | undefined> | undefined
  readonly #signal: AbortSignal
  readonly #toError: (error: unknown) => GatewayError
  readonly #resolve: (response: UpstreamResponse) => void
  readonly #reject: (error: GatewayError) => void
  #abort: ((error?: Error) => void) | undefined
  #resume: (() => void) | undefined
  #paused = false
  #unhook: (() => void) | undefined
  #responded = false
  #chunks: Buffer[] = []
  #ended = false
  #failure: GatewayError | undefined
  /** The reader waiting for the next chunk, the end or a failure. */
  #wake: (() => void) | undefined

  constructor(
    signal: AbortSignal,
    toError: (error: unknown) => GatewayError,
    resolve: (response: UpstreamResponse) => void,
    reject: (error: GatewayError) => void,
  ) {
    this.#signal = signal
    this.#toError = toError
    this.#resolve = resolve
    this.#reject = reject
  }

  readonly #onAbort = () => {
    this.#abort?.(this.#signal.reason as Error)
  }

  /** Called again if undici retries the request on a fresh connection. */
  onConnect(abort: (error?: Error) => void): void {
    this.#abort = abort
    if (this.#signal.aborted) abort(this.#signal.reason as Error)
    else this.#unhook ??= whenAborted(this.#signal, this.#onAbort)
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true // 1xx informational answers come before the real one
    this.#responded = true
    this.status = statusCode
    this.#rawHeaders = rawHeaders
    this.#resume = resume
    this.#resolve(this)
    return true
  }

  get headers(): Record<string, string | undefined> {
    this.#headers ??= parseRawHeaders(this.#rawHeaders ?? [])
    return this.#headers
  }

  get body(): AsyncIterable<Uint8Array> {
    return this
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#iterate()
  }

  text(): Promise<string> {
    return this.#text()
  }

  /** Returning false pauses the socket until `#resumeUpstream`. */
  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk)
    this.#wakeReader()
    if (this.#chunks.length > highWaterChunks) this.#paused = true
    return !this.#paused
  }

  onComplete(): void {
    this.#ended = true
    this.#unhook?.()
    this.#wakeReader()
  }

  onError(error: Error): void {
    this.#unhook?.()
    const failure = this.#toError(error)
    if (!this.#responded) {
      this.#reject(failure)
      return
    }
    this.#failure = failure
    this.#wakeReader()
  }

  #resumeUpstream(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#resume?.()
  }

  #wakeReader(): void {
    const wake = this.#wake
    if (wake === undefined) return
    this.#wake = undefined
    wake()
  }

  #waitForMore(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve
    })
  }

  async #text(): Promise<string> {
    while (!this.#ended) {
      if (this.#failure !== undefined) throw this.#failure
      this.#resumeUpstream()
      await this.#waitForMore()
    }
    if (this.#failure !== undefined) throw this.#failure
    const chunks = this.#chunks
    this.#chunks = []
    if (chunks.length === 1) return chunks[0]!.toString('utf8')
    return Buffer.concat(chunks).toString('utf8')
  }

  #iterate(): AsyncIterator<Uint8Array> {
    let index = 0
    const finished: IteratorResult<Uint8Array> = { done: true, value: undefined }
    /** The next chunk, the end, or undefined when the reader must wait; throws the failure. */
    const take = (): IteratorResult<Uint8Array> | undefined => {
      if (index < this.#chunks.length) {
        const chunk = this.#chunks[index++]!
        if (this.#paused && this.#chunks.length - index < lowWaterChunks) {
          this.#chunks = this.#chunks.slice(index)
          index = 0
          this.#resumeUpstream()
        }
        return { done: false, value: chunk }
      }
      if (this.#failure !== undefined) throw this.#failure
      if (this.#ended) return finished
      // Everything queued was read: start over and let the upstream send again.
      this.#chunks = []
      index = 0
      this.#resumeUpstream()
      return undefined
    }
    // A reader that has to wait is woken by the callback that brought the chunk, the end or the
    // failure, and settles with it there: no async function to resume, no second promise.
    const next = (): Promise<IteratorResult<Uint8Array>> => {
      try {
        const result = take()
        if (result !== undefined) return Promise.resolve(result)
      } catch (error) {
        return Promise.reject(error)
      }
      return new Promise((resolve, reject) => {
        const wake = () => {
          try {
            const result = take()
            if (result === undefined) this.#wake = wake
            else resolve(result)
          } catch (error) {
            reject(error)
          }
        }
        this.#wake = wake
      })
    }
    return {
      next,
      return: async () => {
        if (!this.#ended && this.#failure === undefined) {
          this.#abort?.(new Error('The upstream body was abandoned'))
        }
        this.#chunks = []
        return finished
      },
    }
  }
}

/** undici's raw header lines (name, value, name, value, …) as one record: lower-case names, repeats joined. */
function parseRawHeaders(lines: readonly Buffer[]): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {}
  for (let index = 0; index + 1 < lines.length; index += 2) {
    const name = lines[index]!.toString('latin1').toLowerCase()
    const value = lines[index + 1]!.toString('latin1')
    const earlier = headers[name]
    headers[name] = earlier === undefined ? value : `${earlier}, ${value}`
  }
  return headers
}
