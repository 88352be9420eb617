/**
 * The usage log's writer: a RequestRecorder that queues records and writes them in batches, off
 * the request path. A batch goes out when `batchSize` records are waiting or `flushIntervalMs`
 * after the first one queued, as one multi-row insert.
 *
 * The queue is bounded. When it is full (the database is down or slower than the traffic) new
 * records are refused, counted and reported in a throttled warning: everything already accepted
 * stays in order and is written once the database answers again, so what is lost is a contiguous
 * stretch that the warning dates, never random holes in older data. A failed batch goes back to
 * the head of the queue and is retried with backoff. `close()` writes everything still queued
 * (the server has drained by then, so nothing new arrives).
 */
import type { RequestRecord, RequestRecorder } from '../core/request-record.ts'

export interface UsageLogOptions {
  batchSize?: number | undefined
  flushIntervalMs?: number | undefined
  queueLimit?: number | undefined
  logger?: UsageLogLogger | undefined
  now?: (() => number) | undefined
}

/** The two log levels the writer uses (a pino logger fits). */
export interface UsageLogLogger {
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

export interface UsageLogStats {
  queued: number
  written: number
  /** Records refused because the queue was full, or left unwritten at close. */
  dropped: number
}

export interface UsageLog extends RequestRecorder {
  /** Writes everything queued so far; rejects if the database refuses a batch. */
  flush(): Promise<void>
  /** Stops the timer and writes everything still queued, retrying a few times. */
  close(): Promise<void>
  stats(): UsageLogStats
}

const maxBackoffMs = 30_000
const warnEveryMs = 10_000
const closeAttempts = 3

export function createUsageLog(
  write: (records: readonly RequestRecord[]) => Promise<void>,
  options: UsageLogOptions = {},
): UsageLog {
  const batchSize = options.batchSize ?? 200
  const flushIntervalMs = options.flushIntervalMs ?? 1_000
  const queueLimit = options.queueLimit ?? 10_000
  const logger = options.logger
  const now = options.now ?? Date.now

  let queue: RequestRecord[] = []
  /** Records taken from the queue by the batch being written; they still count against the limit. */
  let inFlight = 0
  let writing: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  let failures = 0
  let closed = false
  let written = 0
  let dropped = 0
  let droppedSinceWarning = 0
  let lastWarningAt = Number.NEGATIVE_INFINITY

  function refuse(count: number, reason: string): void {
    dropped += count
    droppedSinceWarning += count
    if (now() - lastWarningAt < warnEveryMs) return
    lastWarningAt = now()
    logger?.warn(
      { dropped: droppedSinceWarning, dropped_total: dropped, queue_limit: queueLimit },
      `usage log: ${reason}; records dropped`,
    )
    droppedSinceWarning = 0
  }

  function schedule(delayMs: number): void {
    if (timer !== undefined || closed) return
    timer = setTimeout(() => {
      timer = undefined
      start(true).catch(() => {})
    }, delayMs)
    // A pending flush never keeps the process alive on its own: close() does the final write.
    timer.unref()
  }

  /** `all`: write a last partial batch too (timer, flush, close); else full batches only. */
  function start(all: boolean): Promise<void> {
    if (writing === undefined) {
      if (timer !== undefined) {
        clearTimeout(timer)
        timer = undefined
      }
      writing = drain(all).finally(() => {
        writing = undefined
        // What arrived during the write waits for its own batch or the timer.
        if (queue.length > 0) schedule(flushIntervalMs)
      })
    }
    return writing
  }

  /** Writes batches; on a failure, requeues and schedules a retry. */
  async function drain(all: boolean): Promise<void> {
    while (queue.length >= batchSize || (all && queue.length > 0)) {
      const batch = queue.length <= batchSize ? queue : queue.slice(0, batchSize)
      queue = batch === queue ? [] : queue.slice(batchSize)
      inFlight = batch.length
      try {
        await write(batch)
        written += batch.length
        failures = 0
      } catch (error) {
        queue = batch.concat(queue)
        failures++
        logger?.error(
          { err: error, queued: queue.length, failures },
          'usage log: writing a batch failed; will retry',
        )
        schedule(Math.min(flushIntervalMs * 2 ** (failures - 1), maxBackoffMs))
        throw error
      } finally {
        inFlight = 0
      }
    }
  }

  return {
    record(record) {
      if (closed) return refuse(1, 'closed')
      if (queue.length + inFlight >= queueLimit) return refuse(1, 'queue full')
      queue.push(record)
      if (writing !== undefined) return
      // After a failure the retry timer paces the writes; a full batch must not hammer a sick database.
      if (queue.length >= batchSize && failures === 0) void start(false).catch(() => {})
      else schedule(flushIntervalMs)
    },

    async flush() {
      if (writing !== undefined) await writing.catch(() => {})
      await start(true)
    },

    async close() {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      for (let attempt = 1; attempt <= closeAttempts && queue.length + inFlight > 0; attempt++) {
        try {
          if (writing !== undefined) await writing.catch(() => {})
          await start(true)
        } catch {
          if (timer !== undefined) clearTimeout(timer)
          timer = undefined
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
        }
      }
      if (queue.length > 0) {
        logger?.error({ lost: queue.length }, 'usage log: records could not be written at shutdown')
        dropped += queue.length
        queue = []
      }
    },

    stats: () => ({ queued: queue.length + inFlight, written, dropped }),
  }
}
