/**
 * The SQLite writer thread's own code: a `worker_threads` worker started by
 * `sqlite-writer-thread.ts` that owns a second connection to the store's file and runs the usage
 * log's batch inserts on it. SQLite is synchronous, and a commit that crosses the write-ahead
 * log's checkpoint threshold copies the log into the database and syncs both files to disk, which
 * held the event loop for 8-33 ms about every 9,000 requests. Here it holds only this thread.
 * It waits for another writer's lock in SQLite's busy handler, which sleeps inside the call:
 * here that stops this thread only.
 */
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'
import { decodeValues } from './sqlite-batch-codec.ts'
import { type InsertStatements, insertChunked } from './sqlite-insert.ts'
import type { WriterData, WriterMessage, WriterReply } from './sqlite-writer-thread.ts'

const { file, lockWaitMs } = workerData as WriterData
const port = parentPort!
const database = new DatabaseSync(file, { timeout: lockWaitMs })
database.exec('PRAGMA synchronous = NORMAL')
const statements: InsertStatements = new Map()

port.on('message', (message: WriterMessage) => {
  if (message.type === 'close') {
    database.close()
    port.close()
    return
  }
  const { id, table, columns, values } = message
  let reply: WriterReply
  try {
    // IMMEDIATE takes the write lock up front, so two connections never deadlock upgrading.
    database.exec('BEGIN IMMEDIATE')
    try {
      insertChunked(database, statements, table, columns, decodeValues(values))
      database.exec('COMMIT')
    } catch (error) {
      database.exec('ROLLBACK')
      throw error
    }
    reply = { id }
  } catch (error) {
    const { message: text, errcode } = error as Error & { errcode?: number }
    reply = { id, error: { message: String(text), errcode } }
  }
  port.postMessage(reply)
})
