/**
 * One upstream HTTP exchange driven by undici's dispatch handler API: the response body arrives
 * as Buffers pushed into a small queue, read either whole (`text()`) or chunk by chunk (the async
 * iterator), with no Readable stream in between. A Readable plus its async iterator cost more CPU
 * per request than the rest of the transport; streams pay it once per chunk.
 *
 * Back-pressure: when more than `highWaterChunks` chunks wait unread, the upstream socket is paused
 * until the reader catches up. Abandoning the iterator (a `break`, a client gone) aborts upstream.
 */
import type { Dispatcher } from 'undici'
import type { GatewayError } from '../core/errors.ts'
import type { UpstreamResponse } from './transport.ts'

type Controller = Dispatcher.DispatchController

const highWaterChunks = 64
const lowWaterChunks = 8

/**
 * The exchange is both undici's handler and the response its caller reads: one object per
 * upstream call, with the body's iterator and the headers on the prototype. The headers are
 * copied into a flat record only when read (error answers); a success never reads them.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, UpstreamResponse {
  status = 0
  #rawHeaders: Record<string, string | string[] | undefined> | undefined
  #headers: Record<string, string | undefined> | undefined
  readonly #signal: AbortSignal
  readonly #toError: (error: unknown) => GatewayError
  readonly #resolve: (response: UpstreamResponse) => void
  readonly #reject: (error: GatewayError) => void
  #controller: Controller | undefined
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
    this.#controller?.abort(this.#signal.reason as Error)
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller
    if (this.#signal.aborted) controller.abort(this.#signal.reason as Error)
    else this.#signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  onResponseStart(
    _controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return // 1xx informational answers come before the real one
    this.#responded = true
    this.status = statusCode
    this.#rawHeaders = headers
    this.#resolve(this)
  }

  get headers(): Record<string, string | undefined> {
    this.#headers ??= flattenHeaders(this.#rawHeaders ?? {})
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

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#chunks.push(chunk)
    if (this.#chunks.length > highWaterChunks) controller.pause()
    this.#wakeReader()
  }

  onResponseEnd(): void {
    this.#ended = true
    this.#signal.removeEventListener('abort', this.#onAbort)
    this.#wakeReader()
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#signal.removeEventListener('abort', this.#onAbort)
    const failure = this.#toError(error)
    if (!this.#responded) {
      this.#reject(failure)
      return
    }
    this.#failure = failure
    this.#wakeReader()
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
      if (this.#controller?.paused) this.#controller.resume()
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
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      while (index === this.#chunks.length) {
        if (this.#failure !== undefined) throw this.#failure
        if (this.#ended) return { done: true, value: undefined }
        // Everything queued was read: start over and let the upstream send again.
        this.#chunks = []
        index = 0
        if (this.#controller?.paused) this.#controller.resume()
        await this.#waitForMore()
      }
      const chunk = this.#chunks[index++]!
      if (this.#controller?.paused && this.#chunks.length - index < lowWaterChunks) {
        this.#chunks = this.#chunks.slice(index)
        index = 0
        this.#controller.resume()
      }
      return { done: false, value: chunk }
    }
    return {
      next,
      return: async () => {
        if (!this.#ended && this.#failure === undefined) {
          this.#controller?.abort(new Error('The upstream body was abandoned'))
        }
        this.#chunks = []
        return { done: true, value: undefined }
      },
    }
  }
}

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}
