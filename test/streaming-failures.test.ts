import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'
import { chunk } from './helpers/openai-fixtures.ts'

describe('streams that go wrong', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway

  before(async () => {
    upstream = await startFakeUpstream(() => {})
    gateway = await startTestGateway(`
providers:
  vllm: { kind: openai, base_url: "${upstream.url}/v1", timeouts: { idle_ms: 500 } }
models:
  - { id: small, type: text-generation, route: { provider: vllm } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  const request = {
    model: 'small',
    messages: [{ role: 'user' as const, content: 'Hi' }],
    stream: true as const,
  }

  test('a client that disconnects aborts the upstream request within a second', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      const timer = setInterval(
        () => response.write(`data: ${JSON.stringify(chunk('m', { content: 'tick' }))}\n\n`),
        20,
      )
      response.once('close', () => clearInterval(timer))
    })
    const controller = new AbortController()
    const stream = await gateway.client.chat.completions.create(request, {
      signal: controller.signal,
    })
    let received = 0
    try {
      for await (const _ of stream) {
        if (++received === 3) controller.abort()
      }
    } catch {
      // The SDK may end the iteration or throw on abort; either way the client is gone.
    }
    assert.equal(received, 3)
    const upstreamRequest = upstream.requests.at(-1)!
    const started = Date.now()
    await upstreamRequest.closed
    assert.ok(Date.now() - started < 1000, 'upstream connection closed within a second')
  })

  test('a client that disconnects before an unstreamed answer aborts the upstream request', async () => {
    // The upstream never answers: only the client's abort can end the upstream request.
    upstream.handle(() => {})
    const controller = new AbortController()
    const asked = upstream.requests.length
    const pending = gateway.client.chat.completions.create(
      { model: 'small', messages: request.messages },
      { signal: controller.signal },
    )
    for (let waited = 0; upstream.requests.length === asked; waited += 5) {
      assert.ok(waited < 5000, 'the request reached the upstream')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    controller.abort()
    await assert.rejects(pending)
    const closed = await Promise.race([
      upstream.requests.at(-1)!.closed.then(() => true),
      new Promise<false>((resolve) => setTimeout(resolve, 1000, false)),
    ])
    assert.ok(closed, 'upstream connection closed within a second')
  })

  test('an upstream that dies mid-stream yields an error event, then the stream ends', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.write(
        `data: ${JSON.stringify(chunk('m', { role: 'assistant', content: 'partial' }))}\n\n`,
      )
      setTimeout(() => response.socket?.destroy(), 30)
    })
    const stream = await gateway.client.chat.completions.create(request)
    const contents: string[] = []
    await assert.rejects(
      async () => {
        for await (const part of stream) contents.push(part.choices[0]?.delta.content ?? '')
      },
      (error) => {
        assert.ok(error instanceof OpenAI.APIError)
        assert.match(error.message, /upstream|stream/i)
        return true
      },
    )
    assert.deepEqual(contents, ['partial'])
  })

  test('an upstream that stalls mid-stream is cut off by the idle timeout, never hangs', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.write(
        `data: ${JSON.stringify(chunk('m', { role: 'assistant', content: 'partial' }))}\n\n`,
      )
    })
    const started = Date.now()
    const response = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gateway.client.apiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(request),
    })
    const text = await response.text()
    assert.ok(Date.now() - started < 3000)
    const events = text.trim().split('\n\n')
    assert.equal(events.length, 2)
    const error = JSON.parse(events[1]!.slice('data: '.length)) as { error: { code: string } }
    assert.equal(error.error.code, 'upstream_timeout')
    assert.ok(!text.includes('[DONE]'))
  })

  test('an upstream that closes cleanly before finishing is reported, not passed off as complete', async () => {
    upstream.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.end(`data: ${JSON.stringify(chunk('m', { role: 'assistant', content: 'cut' }))}\n\n`)
    })
    const stream = await gateway.client.chat.completions.create(request)
    await assert.rejects(async () => {
      for await (const _ of stream) {
      }
    }, /ended the stream early/)
  })
})
