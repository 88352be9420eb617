/**
 * The event loop's side of the SQLite writer thread (`sqlite-writer.ts`): batch inserts go to it
 * as messages (encoded by `sqlite-batch-codec.ts`) and each resolves when its transaction has
 * committed, or rejects with SQLite's error. The thread starts with the first insert, so a
 * process that never writes a batch (the CLI, an idle gateway) never pays for it, and it does
 * not keep the process alive while nothing is waiting for it.
 */

import { createRequire } from 'node:module'
import type { Worker as WorkerType } from 'node:worker_threads'
import type { SqlValue } from './sql-driver.ts'
import { type EncodedValues, encodeValues } from './sqlite-batch-codec.ts'

const require = createRequire(import.meta.url)
const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads')

export interface WriterData {
  file: string
  lockWaitMs: number
}

export type WriterMessage =
  | {
      type: 'insert'
      id: number
      table: string
      columns: readonly string[]
      values: EncodedValues
    }
  | { type: 'close' }

export interface WriterReply {
  id: number
  error?: { message: string; errcode: number | undefined }
}

export interface WriterThread {
  insertRows(table: string, columns: readonly string[], values: readonly SqlValue[]): Promise<void>
  /** Waits for the inserts already sent, then closes the thread's connection. */
  close(): Promise<void>
}

// The sources run with their types stripped in development and tests, the build from `dist/`.
const entry = new URL(
  import.meta.url.endsWith('.ts') ? './sqlite-writer.ts' : './sqlite-writer.js',
  import.meta.url,
)

export function openWriterThread(data: WriterData): WriterThread {
  let worker: WorkerType | undefined
  let nextId = 0
  const pending = new Map<number, PromiseWithResolvers<void>>()

  function failAll(error: Error): void {
    for (const waiter of pending.values()) waiter.reject(error)
    pending.clear()
  }

  function start(): WorkerType {
    // Its garbage is one batch of values at a time, so a small young generation is plenty; the
    // process's own --max-semi-space-size=16 (serve sets it) would apply here too otherwise.
    const thread = new Worker(entry, {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    })
    thread.on('message', ({ id, error }: WriterReply) => {
      const waiter = pending.get(id)
      pending.delete(id)
      if (pending.size === 0) thread.unref()
      if (error === undefined) waiter?.resolve()
      else waiter?.reject(Object.assign(new Error(error.message), { errcode: error.errcode }))
    })
    thread.on('error', (error: Error) => failAll(error))
    thread.on('exit', (code) => {
      if (worker === thread) worker = undefined
      // A batch the thread took with it goes back to the usage log's queue and is retried.
      failAll(new Error(`The SQLite writer thread stopped (exit code ${code})`))
    })
    return thread
  }

  return {
    insertRows(table, columns, values) {
      worker ??= start()
      const id = ++nextId
      const waiter = Promise.withResolvers<void>()
      pending.set(id, waiter)
      worker.ref()
      worker.postMessage({
        type: 'insert',
        id,
        table,
        columns,
        values: encodeValues(values, columns.length),
      } satisfies WriterMessage)
      return waiter.promise
    },

    async close() {
      const thread = worker
      if (thread === undefined) return
      await Promise.allSettled([...pending.values()].map((waiter) => waiter.promise))
      const exited = new Promise((resolve) => thread.once('exit', resolve))
      thread.ref()
      thread.postMessage({ type: 'close' } satisfies WriterMessage)
      await exited
    },
  }
}
