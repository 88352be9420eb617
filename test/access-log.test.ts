/**
 * The access log: one pino-format JSON line per request, batched before it reaches the logger's
 * destination, flushed by a timer and on shutdown, and never built when `info` is off.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { createAccessLog } from '../src/server/access-log.ts'
import { startTestGateway, testKey } from './helpers/gateway.ts'

const config = `
providers:
  demo: { kind: mock }
models:
  - { id: mock-chat, type: text-generation, route: { provider: demo, model: demo-1 } }
`

function capture(level = 'info') {
  const writes: string[] = []
  const logger = pino({ level, base: null }, { write: (chunk: string) => writes.push(chunk) })
  const lines = () =>
    writes
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  const accessLines = () => lines().filter((line) => line.msg === 'request')
  return { logger, writes, accessLines }
}

describe('access log', () => {
  test('one line per request, in pino’s format, with what happened to it', async () => {
    const log = capture()
    const gateway = await startTestGateway(config, {}, { logger: log.logger })
    try {
      const { response } = await gateway.client.chat.completions
        .create({ model: 'mock-chat', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse()
      const requestId = response.headers.get('x-request-id')
      const missing = await fetch(`${gateway.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'no-such-model',
          messages: [{ role: 'user', content: 'x' }],
        }),
      })
      assert.equal(missing.status, 404)
      const anonymous = await fetch(`${gateway.baseURL}/models`)
      assert.equal(anonymous.status, 401)

      // Lines wait in the buffer for at most 250 ms, then reach the destination on their own.
      await sleep(400)
      const lines = log.accessLines()
      assert.equal(lines.length, 3, JSON.stringify(lines))
      const [ok, notFound, unauthorized] = lines
      assert.equal(ok!.level, 30)
      assert.equal(typeof ok!.time, 'number')
      assert.ok(Math.abs(Date.now() - (ok!.time as number)) < 10_000)
      assert.equal(ok!.request_id, requestId)
      assert.equal(ok!.method, 'POST')
      assert.equal(ok!.path, '/v1/chat/completions')
      assert.equal(ok!.status, 200)
      assert.equal(ok!.key, 'alice')
      assert.equal(ok!.model, 'mock-chat')
      assert.equal(ok!.provider, 'demo')
      assert.equal(ok!.upstream_model, 'demo-1')
      assert.equal(ok!.attempts, 1)
      assert.equal(ok!.stream, false)
      assert.equal(typeof ok!.latency_ms, 'number')
      assert.equal(notFound!.status, 404)
      assert.equal(notFound!.error_code, 'model_not_found')
      assert.equal(unauthorized!.status, 401)
      assert.equal(unauthorized!.path, '/v1/models')
      assert.equal(unauthorized!.key, undefined)
      assert.ok(!JSON.stringify(lines).includes(testKey), 'the key never reaches the log')
    } finally {
      await gateway.stop()
    }
  })

  test('lines still buffered when the gateway stops are written', async () => {
    const log = capture()
    const gateway = await startTestGateway(config, {}, { logger: log.logger })
    const startedAt = Date.now()
    for (let i = 0; i < 5; i++) {
      await gateway.client.chat.completions.create({
        model: 'mock-chat',
        messages: [{ role: 'user', content: `question ${i}` }],
      })
    }
    // Five short lines stay below the 4 KiB buffer; on a slow machine the timer may have fired.
    if (Date.now() - startedAt < 200) assert.equal(log.accessLines().length, 0)
    await gateway.stop()
    assert.equal(log.accessLines().length, 5)
  })

  test('a process that exits without stopping still writes its buffered lines', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-access-exit-'))
    const source = new URL('../src/', import.meta.url).href
    const script = `
      import { parseConfig } from '${source}config/load.ts'
      import { startGateway } from '${source}start.ts'
      const config = parseConfig(${JSON.stringify(`server: { host: 127.0.0.1, port: 0, data_dir: ${JSON.stringify(dataDir)} }
auth: { keys: [ { name: exiting, key: ${testKey} } ] }
${config}`)}, 'exit.yaml', {})
      const running = await startGateway({ config })
      const answer = await fetch(running.url + '/v1/models', {
        headers: { authorization: 'Bearer ${testKey}' },
      })
      await answer.text()
      process.exit(0)
    `
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.equal(child.status, 0, child.stderr)
    const line = child.stdout
      .split('\n')
      .filter((text) => text.includes('"msg":"request"'))
      .map((text) => JSON.parse(text) as Record<string, unknown>)
    assert.equal(line.length, 1, child.stdout)
    assert.equal(line[0]!.path, '/v1/models')
    assert.equal(line[0]!.key, 'exiting')
  })

  test('log_level warn builds no access line', async () => {
    const log = capture('warn')
    const gateway = await startTestGateway(config, {}, { logger: log.logger })
    try {
      await gateway.client.chat.completions.create({
        model: 'mock-chat',
        messages: [{ role: 'user', content: 'hi' }],
      })
    } finally {
      await gateway.stop()
    }
    assert.equal(log.accessLines().length, 0)
  })

  test('the buffer goes to the destination once it holds bufferBytes', () => {
    const log = capture()
    const accessLog = createAccessLog(log.logger, { bufferBytes: 600, flushMs: 60_000 })
    assert.ok(accessLog)
    try {
      const fields = (n: number) => ({
        request_id: `req-${n}`,
        method: 'GET',
        path: '/v1/models',
        status: 200,
        latency_ms: 0.5,
        key: 'alice "quoted"\n',
      })
      let n = 0
      while (log.writes.length === 0 && n < 100) accessLog.write(fields(n++))
      assert.equal(log.writes.length, 1, 'one write carries every line buffered so far')
      assert.ok(log.writes[0]!.length >= 600)
      assert.equal(log.accessLines().length, n)
      assert.equal(log.accessLines()[0]!.key, 'alice "quoted"\n', 'strings are escaped')
      accessLog.write(fields(n))
      assert.equal(log.writes.length, 1)
      accessLog.flush()
      assert.equal(log.accessLines().length, n + 1)
    } finally {
      accessLog.close()
    }
  })
})
