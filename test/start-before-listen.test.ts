/**
 * `serve` runs a full collection at start-up that stops the process for 100-250 ms. It must run
 * before the port accepts connections: a connection the kernel has already accepted would wait
 * for it, and so would the first requests of every new process and every reloaded worker.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pino } from 'pino'
import { parseConfig } from '../src/config/load.ts'
import { startGateway } from '../src/start.ts'

/** Whether a TCP connection to the port is accepted now, asked from another process. */
function acceptsConnections(port: number): string {
  const probe = `
    const socket = require('node:net').connect(${port}, '127.0.0.1')
    socket.on('connect', () => { console.log('accepted'); socket.destroy() })
    socket.on('error', (error) => console.log(error.code))`
  // spawnSync blocks this event loop as the collection does; the kernel still accepts for a
  // listening socket.
  return spawnSync(process.execPath, ['-e', probe], {
    encoding: 'utf8',
    timeout: 10_000,
  }).stdout.trim()
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('beforeListen runs once everything is built and before the port accepts connections', async () => {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-before-listen-'))
  const config = parseConfig(
    `server: { host: 127.0.0.1, port: ${port}, log_level: silent, data_dir: ${JSON.stringify(dataDir)} }
auth: { keys: [ { name: probe, key: sk-test-before-listen-0123456789 } ] }
providers: { demo: { kind: mock } }
models: [ { id: mock-echo, type: text-generation, route: { provider: demo } } ]
`,
    'before-listen.yaml',
    {},
  )
  const seen: string[] = []
  const running = await startGateway({
    config,
    logger: pino({ level: 'silent' }),
    beforeListen: () => seen.push(acceptsConnections(port)),
  })
  try {
    assert.deepEqual(seen, ['ECONNREFUSED'])
    assert.equal(acceptsConnections(port), 'accepted')
  } finally {
    await running.stop()
  }
})
