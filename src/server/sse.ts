/** The only server-sent-events writer: chunks out as they arrive, then `data: [DONE]`. */
import type { ServerResponse } from 'node:http'
import type { CompletionUsage, StreamPart } from '../core/chat.ts'
import type { GatewayError } from '../core/errors.ts'

export interface StreamOutcome {
  usage: CompletionUsage | undefined
  error: GatewayError | undefined
  /** The client went away before the stream finished. */
  disconnected: boolean
  /** Milliseconds from the start of writing to the first chunk written. */
  firstChunkAt: number | undefined
  /**
   * The chunks' JSON as written, held by reference (no copy, no parse) until the request ends, so
   * a stream whose upstream reported no usage can still be estimated afterwards. Capped at
   * `keptChunkLimit`; `chunkCount` counts them all.
   */
  chunks: string[]
  chunkCount: number
}

const done = 'data: [DONE]\n\n'
/**
 * The first chunks of a stream are kept as a sample: an estimate counts their tokens and scales by
 * the chunk count. Keeping every chunk of every open stream until it ended made them survive into
 * V8's old generation: with 1,000 open streams it cost about 85 MB of peak resident memory.
 */
export const keptChunkLimit = 16

function keep(outcome: StreamOutcome, data: string): void {
  if (outcome.chunkCount++ < keptChunkLimit) outcome.chunks.push(data)
}

export async function writeEventStream(
  response: ServerResponse,
  parts: AsyncIterable<StreamPart>,
  headers: Record<string, string>,
  now: () => number = performance.now.bind(performance),
): Promise<StreamOutcome> {
  const outcome: StreamOutcome = {
    usage: undefined,
    error: undefined,
    disconnected: false,
    firstChunkAt: undefined,
    chunks: [],
    chunkCount: 0,
  }
  response.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
  // Headers go out with the first chunk, in one write, at once (see the uncork below). Later parts
  // that are ready in the same tick (one upstream read often carries several events) are joined
  // and leave as one write: one HTTP chunk and one write(2), and one pass through the response's
  // stream machinery instead of one per part. The batch is written once the tick's work is done.
  let batch: string[] = []
  let flushing = false
  /** Set when the socket's buffer is full: the next part waits for it to drain. */
  let blocked: Promise<void> | undefined
  const flush = () => {
    flushing = false
    if (batch.length === 0) return
    const text = batch.length === 1 ? batch[0]! : batch.join('')
    batch = []
    if (response.destroyed || response.writableEnded) return
    if (!response.write(text)) blocked = drained(response)
  }
  for await (const part of parts) {
    if (blocked !== undefined) {
      await blocked
      blocked = undefined
    }
    if (response.destroyed) {
      outcome.disconnected = true
      return outcome
    }
    let data: string
    switch (part.type) {
      case 'raw':
        data = part.data
        if (part.usage !== undefined) outcome.usage = part.usage
        keep(outcome, data)
        break
      case 'chunk':
        data = JSON.stringify(part.chunk)
        if (part.chunk.usage) outcome.usage = part.chunk.usage
        keep(outcome, data)
        break
      case 'usage':
        outcome.usage = part.usage
        continue
      case 'error':
        outcome.error = part.error
        data = JSON.stringify(part.error.toBody())
        break
    }
    if (outcome.firstChunkAt === undefined) {
      outcome.firstChunkAt = now()
      if (!response.write(`data: ${data}\n\n`)) blocked = drained(response)
      // node:http corks the socket on a response's first write until the next tick, which comes
      // only after every part of the upstream read has gone through: with a fast upstream that is
      // most of the stream. The client's first token leaves now.
      else if (!response.writableEnded) response.uncork()
    } else {
      batch.push(`data: ${data}\n\n`)
      if (!flushing) {
        flushing = true
        process.nextTick(flush)
      }
    }
    if (outcome.error !== undefined) break
  }
  flush()
  if (response.destroyed) {
    outcome.disconnected = true
    return outcome
  }
  response.end(outcome.error === undefined ? done : undefined)
  return outcome
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      response.off('drain', finish)
      response.off('close', finish)
      resolve()
    }
    response.on('drain', finish)
    response.on('close', finish)
  })
}
