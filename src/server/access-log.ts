/**
 * The access log: one JSON line per request, in pino's line format
 * (`{"level":30,"time":…,"request_id":…,…,"msg":"request"}`), written to the logger's own
 * destination. Every request pays for this line, so it skips pino's general-purpose formatting
 * (a walk over the fields with an escaping pass per string, about 27k instructions) for one
 * `JSON.stringify` of fields the gateway built itself (about 7k), and hands the destination
 * 12 KiB at a time instead of a line at a time (sonic-boom measures its whole pending buffer on
 * every write). Each hand-over is one `write(2)` on libuv's thread pool and a completion back on
 * the event loop: at 12 KiB about 40 lines share them, where 4 KiB cost 0.5-0.8 µs more CPU per
 * request. Lines wait at most `flushMs`; `flush()` writes them at once.
 * Everything else the gateway logs goes through pino as usual.
 */
import type { Logger } from 'pino'
import { symbols } from 'pino'

/**
 * Bytes of lines handed over at once. pino's destination buffers as much before it writes
 * (`minLength`), which sonic-boom requires to stay below its 16 KiB `maxWrite`.
 */
export const accessLogBufferBytes = 12 * 1024

/** pino's number for `info`, the level access lines are written at. */
const infoLevel = 30

/** The fields of one access line, in the order they are written. */
export interface AccessFields {
  request_id: string
  method: string | undefined
  path: string
  status: number
  latency_ms: number
  key: string | undefined
  [field: string]: unknown
}

export interface AccessLog {
  write(fields: AccessFields): void
  /** Hands every buffered line to the destination (on shutdown, and before the process exits). */
  flush(): void
  close(): void
}

interface Destination {
  write(chunk: string): unknown
  flushSync?: () => void
}

export interface AccessLogOptions {
  bufferBytes?: number
  flushMs?: number
}

/** Undefined when the logger's level leaves `info` out: no line is built at all then. */
export function createAccessLog(
  logger: Logger,
  { bufferBytes = accessLogBufferBytes, flushMs = 250 }: AccessLogOptions = {},
): AccessLog | undefined {
  if (!logger.isLevelEnabled('info')) return undefined
  const found = (logger as unknown as Record<symbol, Destination | undefined>)[symbols.streamSym]
  if (found === undefined) return undefined
  const destination = found
  let pending = ''
  let timer: NodeJS.Timeout | undefined

  function flush(): void {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    if (pending === '') return
    const chunk = pending
    pending = ''
    destination.write(chunk)
  }
  // A crash exits without `close()`: what is buffered still reaches the file descriptor.
  const onExit = () => {
    flush()
    try {
      destination.flushSync?.()
    } catch {
      // The destination is closed or not open yet; nothing more can be written.
    }
  }
  process.once('exit', onExit)

  return {
    write(fields) {
      const line = JSON.stringify(fields)
      // `{"level":30,"time":N,` + the fields without their opening brace, closed by the message.
      pending += `{"level":${infoLevel},"time":${Date.now()},${line.slice(1, -1)},"msg":"request"}\n`
      if (pending.length >= bufferBytes) flush()
      else if (timer === undefined) {
        timer = setTimeout(flush, flushMs)
        timer.unref()
      }
    },
    flush,
    close() {
      flush()
      process.off('exit', onExit)
    },
  }
}
