/**
 * How a request body reaches the gateway on the wire: whole with its headers (taken from the
 * request's buffer at once), in pieces (waited for), or cut off. Raw sockets, since an HTTP
 * client decides for itself how it splits a request into writes.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'
import { completion } from './helpers/openai-fixtures.ts'

describe('request bodies as they arrive on the wire', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway
  let port: number

  before(async () => {
    upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 200, completion('small', 'ok')),
    )
    gateway = await startTestGateway(`
providers:
  vllm: { kind: openai, base_url: "${upstream.url}/v1" }
models:
  - { id: small, type: text-generation, route: { provider: vllm } }
`)
    port = Number(new URL(gateway.url).port)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  /** A body whose text is checked where it lands: the upstream gets the client's bytes as sent. */
  const body = JSON.stringify({
    model: 'small',
    messages: [{ role: 'user', content: `héllo ${'x'.repeat(3000)}` }],
    max_tokens: 5,
  })
  const head = (length: number | 'chunked') =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${testKey}\r\n` +
    `Content-Type: application/json\r\n${length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`}\r\n\r\n`

  function open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket))
      socket.once('error', reject)
    })
  }

  /** The status line and body of the one answer on `socket`. */
  function answer(socket: Socket): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      let text = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        text += chunk
        const split = text.indexOf('\r\n\r\n')
        if (split === -1) return
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, split))?.[1])
        if (text.length - split - 4 < length) return
        resolve({ status: Number(text.slice(9, 12)), body: text.slice(split + 4) })
      })
      socket.once('error', reject)
    })
  }

  /** Each write after the first waits `gapMs`: it reaches the gateway in a read of its own. */
  async function send(writes: readonly (string | Buffer)[], gapMs: number) {
    const socket = await open()
    const answered = answer(socket)
    for (const [index, write] of writes.entries()) {
      if (index > 0) await sleep(gapMs)
      socket.write(write)
    }
    const result = await answered
    socket.destroy()
    return result
  }

  const bytes = Buffer.byteLength(body)

  test('a body that arrives with its headers is forwarded whole', async () => {
    const { status } = await send([head(bytes) + body], 0)
    assert.equal(status, 200)
    assert.equal(upstream.requests.at(-1)!.text, body)
  })

  test('a body split across writes is waited for, even when part came with the headers', async () => {
    const encoded = Buffer.from(body)
    // Inside the two bytes of the é: the parts are joined before they are decoded.
    const cut = encoded.indexOf(0xc3) + 1
    for (const writes of [
      [head(bytes), body],
      [Buffer.concat([Buffer.from(head(bytes)), encoded.subarray(0, cut)]), encoded.subarray(cut)],
    ]) {
      const { status, body: text } = await send(writes, 30)
      assert.equal(status, 200, text)
      assert.equal(upstream.requests.at(-1)!.text, body)
    }
  })

  test('a body shorter than its content-length is not taken as whole', async () => {
    const before = upstream.requests.length
    const socket = await open()
    socket.write(head(bytes + 10) + body)
    await sleep(50)
    socket.destroy()
    await sleep(50)
    assert.equal(upstream.requests.length, before, 'nothing was forwarded')
    const { status } = await send([head(bytes) + body], 0)
    assert.equal(status, 200, 'the gateway still answers')
  })

  test('an empty body is a 400, announced as empty or ended later without a length', async () => {
    for (const [writes, gapMs] of [
      [[head(0)], 0],
      [[head('chunked'), '0\r\n\r\n'], 30],
    ] as const) {
      const { status, body: text } = await send(writes, gapMs)
      assert.equal(status, 400)
      assert.equal(JSON.parse(text).error.code, 'invalid_json')
    }
  })
})
