import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { emptyRecord, type RequestRecord } from '../src/core/request-record.ts'
import { createUsageLog } from '../src/store/usage-log.ts'

function records(count: number, from = 0): RequestRecord[] {
  return Array.from({ length: count }, (_, index) => emptyRecord(`r${from + index}`, 0))
}

/** A writer that keeps what it was given, and can be made to fail or to hang until released. */
function recordingWriter() {
  const batches: string[][] = []
  let failing = false
  let gate: Promise<void> | undefined
  let release = () => {}
  return {
    batches,
    written: () => batches.flat(),
    fail(value: boolean) {
      failing = value
    },
    hold() {
      gate = new Promise((resolve) => {
        release = resolve
      })
    },
    release: () => release(),
    async write(batch: readonly RequestRecord[]) {
      if (gate !== undefined) await gate
      if (failing) throw new Error('database down')
      batches.push(batch.map((record) => record.requestId))
    },
  }
}

function capturingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = []
  return {
    lines,
    warn(fields: Record<string, unknown>, message: string) {
      lines.push({ level: 'warn', fields, message })
    },
    error(fields: Record<string, unknown>, message: string) {
      lines.push({ level: 'error', fields, message })
    },
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('usage log queue', () => {
  test('a full batch is written at once, as one write; the rest waits for the timer', async () => {
    const writer = recordingWriter()
    const log = createUsageLog(writer.write, { batchSize: 3, flushIntervalMs: 60_000 })
    for (const record of records(4)) log.record(record)
    await settle()
    assert.deepEqual(writer.batches, [['r0', 'r1', 'r2']])
    assert.equal(log.stats().queued, 1)
    await log.close()
    assert.deepEqual(writer.batches, [['r0', 'r1', 'r2'], ['r3']])
  })

  test('a partial batch is written when the flush interval passes', async () => {
    const writer = recordingWriter()
    const log = createUsageLog(writer.write, { batchSize: 100, flushIntervalMs: 20 })
    for (const record of records(2)) log.record(record)
    assert.deepEqual(writer.batches, [], 'nothing written on the request path')
    const deadline = Date.now() + 2_000
    while (writer.batches.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    assert.deepEqual(writer.batches, [['r0', 'r1']])
    await log.close()
  })

  test('recording never waits for the database, even while a write hangs', async () => {
    const writer = recordingWriter()
    writer.hold()
    const log = createUsageLog(writer.write, { batchSize: 2, flushIntervalMs: 60_000 })
    const started = performance.now()
    for (const record of records(500)) log.record(record)
    assert.ok(performance.now() - started < 200, 'record() returns at once')
    assert.equal(log.stats().queued, 500)
    writer.release()
    await log.close()
    assert.equal(writer.written().length, 500)
    assert.deepEqual(writer.written().slice(0, 3), ['r0', 'r1', 'r2'], 'in order')
  })

  test('a full queue drops the newest records, counts them and warns once; nothing accepted is lost', async () => {
    const writer = recordingWriter()
    writer.hold()
    const logger = capturingLogger()
    let clock = 0
    const log = createUsageLog(writer.write, {
      batchSize: 2,
      flushIntervalMs: 60_000,
      queueLimit: 5,
      logger,
      now: () => clock,
    })
    for (const record of records(8)) log.record(record)
    assert.deepEqual(log.stats(), { queued: 5, written: 0, dropped: 3 })
    const warnings = logger.lines.filter((line) => line.level === 'warn')
    assert.equal(warnings.length, 1, 'throttled: one warning for the burst')
    assert.equal(warnings[0]!.fields.queue_limit, 5)
    clock += 20_000
    log.record(emptyRecord('late', 0))
    assert.equal(logger.lines.filter((line) => line.level === 'warn').length, 2)
    assert.equal(logger.lines.at(-1)!.fields.dropped_total, 4)

    writer.release()
    await log.close()
    assert.deepEqual(writer.written(), ['r0', 'r1', 'r2', 'r3', 'r4'])
    assert.equal(log.stats().dropped, 4)
  })

  test('a failed batch goes back to the head of the queue and is written in order later', async () => {
    const writer = recordingWriter()
    const logger = capturingLogger()
    const log = createUsageLog(writer.write, { batchSize: 2, flushIntervalMs: 10, logger })
    writer.fail(true)
    for (const record of records(3)) log.record(record)
    await assert.rejects(log.flush(), /database down/)
    assert.equal(log.stats().queued, 3)
    assert.ok(logger.lines.some((line) => line.level === 'error'))
    writer.fail(false)
    for (const record of records(1, 3)) log.record(record)
    await log.close()
    assert.deepEqual(writer.written(), ['r0', 'r1', 'r2', 'r3'])
    assert.equal(log.stats().dropped, 0)
  })

  test('close retries a few times, then reports what it could not write', async () => {
    const writer = recordingWriter()
    const logger = capturingLogger()
    writer.fail(true)
    const log = createUsageLog(writer.write, { batchSize: 10, flushIntervalMs: 60_000, logger })
    for (const record of records(3)) log.record(record)
    await log.close()
    assert.equal(log.stats().dropped, 3)
    const lost = logger.lines.find((line) => line.message.includes('at shutdown'))
    assert.equal(lost?.fields.lost, 3)
  })
})
