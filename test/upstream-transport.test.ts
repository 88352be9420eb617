import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { GatewayError } from '../src/core/errors.ts'
import { createHttpTransport, defaultHttpTimeouts } from '../src/upstream/http-transport.ts'
import type { Transport } from '../src/upstream/transport.ts'
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts'

/** The HTTP transport on its own: bodies read whole or chunk by chunk, back-pressure, aborts. */
describe('HTTP transport', () => {
  let upstream: FakeUpstream
  let transport: Transport
  before(async () => {
    upstream = await startFakeUpstream((_request, response) => {
      response.end()
    })
    transport = createHttpTransport({
      ...defaultHttpTimeouts,
      origin: upstream.url,
      maxConnections: undefined,
    })
  })
  after(async () => {
    await transport.close()
    await upstream.close()
  })

  const post = (signal: AbortSignal) =>
    transport.send(
      {
        method: 'POST',
        origin: upstream.url,
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', authorization: 'Bearer upstream-key' },
        body: '{"model":"m"}',
      },
      signal,
    )

  test("a request to an origin other than the pool's is sent too", async () => {
    const other = await startFakeUpstream((request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' })
      response.end(`other got ${request.text}`)
    })
    try {
      const response = await transport.send(
        { method: 'POST', origin: other.url, path: '/x', headers: {}, body: 'hello' },
        new AbortController().signal,
      )
      assert.equal(response.status, 200)
      assert.equal(await response.text(), 'other got hello')
      upstream.handle((_request, response) => {
        response.end('pool')
      })
      const pooled = await post(new AbortController().signal)
      assert.equal(await pooled.text(), 'pool')
    } finally {
      await other.close()
    }
  })

  test('sends method, path, headers and body; reads a body written in many pieces whole', async () => {
    const pieces = Array.from({ length: 300 }, (_, index) => `piece ${index} ${'é'.repeat(50)};`)
    upstream.handle(async (_request, response) => {
      // An informational answer first: the exchange answers with the final one.
      response.writeEarlyHints({ link: '</style.css>; rel=preload' })
      response.writeHead(201, {
        'content-type': 'application/json',
        'x-multi': ['a', 'b'],
        'Retry-After': '7',
      })
      for (const piece of pieces) {
        response.write(piece)
        await new Promise((resolve) => setImmediate(resolve))
      }
      response.end()
    })
    const response = await post(new AbortController().signal)
    assert.equal(response.status, 201)
    assert.equal(response.headers['x-multi'], 'a, b')
    assert.equal(response.headers['retry-after'], '7')
    assert.equal(response.headers['content-type'], 'application/json')
    assert.equal(await response.text(), pieces.join(''))
    const received = upstream.requests.at(-1)!
    assert.equal(received.method, 'POST')
    assert.equal(received.path, '/v1/chat/completions')
    assert.equal(received.headers.authorization, 'Bearer upstream-key')
    assert.deepEqual(received.body, { model: 'm' })
  })

  test('a slow reader gets every chunk in order while the upstream is paused and resumed', async () => {
    const count = 2000
    upstream.handle(async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      // One write per event, far faster than the reader: its queue fills and the socket pauses.
      for (let index = 0; index < count; index++) {
        response.write(`data: ${index}\n\n`)
        if (index % 4 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      response.end()
    })
    const response = await post(new AbortController().signal)
    let text = ''
    let reads = 0
    for await (const bytes of response.body) {
      text += Buffer.from(bytes).toString('utf8')
      if (++reads % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const expected = Array.from({ length: count }, (_, index) => `data: ${index}\n\n`).join('')
    assert.equal(text, expected)
  })

  test('abandoning the body or aborting the signal closes the upstream request', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      const timer = setInterval(() => response.write('data: tick\n\n'), 5)
      response.once('close', () => clearInterval(timer))
    })
    const abandoned = await post(new AbortController().signal)
    for await (const _ of abandoned.body) break
    await withinOneSecond(upstream.requests.at(-1)!.closed)

    const controller = new AbortController()
    const aborted = await post(controller.signal)
    const iterator = aborted.body[Symbol.asyncIterator]()
    await iterator.next()
    controller.abort()
    await withinOneSecond(upstream.requests.at(-1)!.closed)
    await assert.rejects(async () => {
      for (;;) if ((await iterator.next()).done) break
    }, GatewayError)
  })

  test('an upstream that is not listening is a GatewayError naming the host', async () => {
    const closed = await startFakeUpstream((_request, response) => {
      response.end()
    })
    const origin = closed.url
    await closed.close()
    await assert.rejects(
      transport.send(
        { method: 'GET', origin, path: '/', headers: {}, body: '' },
        new AbortController().signal,
      ),
      (error: unknown) =>
        error instanceof GatewayError &&
        error.code === 'upstream_unreachable' &&
        error.message.includes(new URL(origin).host),
    )
  })
})

async function withinOneSecond(closed: Promise<void>): Promise<void> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('upstream request still open after 1 s')), 1000).unref(),
  )
  await Promise.race([closed, timeout])
}
