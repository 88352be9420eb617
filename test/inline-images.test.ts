/**
 * Image URLs downloaded and inlined for providers that need it (`inlinesImageUrls`), through
 * `callTarget` with a real HTTP transport: the image host and the chat upstream are loopback fakes.
 * Only loopback addresses are ever dialled; other addresses appear only in answers the test
 * resolver gives, which the gateway must refuse before connecting.
 */
import assert from 'node:assert/strict'
import type { LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { configSchema } from '../src/config/schema.ts'
import type { ChatRequest } from '../src/core/chat.ts'
import { GatewayError } from '../src/core/errors.ts'
import { createOpenAICompatibleAdapter } from '../src/providers/openai/index.ts'
import { callTarget, type Provider } from '../src/upstream/call.ts'
import type { Resolve } from '../src/upstream/fetch-image.ts'
import { createHttpTransport, defaultHttpTimeouts } from '../src/upstream/http-transport.ts'
import { createImageInliner, hasRemoteImageUrls } from '../src/upstream/inline-images.ts'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { completion } from './helpers/openai-fixtures.ts'

// A 1x1 PNG.
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)
const pngDataUrl = `data:image/png;base64,${png.toString('base64')}`

/** The test's DNS: names resolve only to what this table says. */
const names: Record<string, string[]> = {
  'images.test': ['127.0.0.1'],
  'mixed.test': ['127.0.0.1', '10.0.0.1'],
}
const resolve: Resolve = (hostname, _options, callback) => {
  const addresses = names[hostname]
  if (addresses === undefined) {
    callback(Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' }), [])
    return
  }
  callback(
    null,
    addresses.map((address): LookupAddress => ({ address, family: isIP(address) })),
  )
}

describe('image URLs inlined for providers that cannot fetch them', () => {
  let images: FakeUpstream
  let upstream: FakeUpstream
  let bigChunksWritten = 0
  let imagePort = ''
  const closers: (() => Promise<void>)[] = []

  before(async () => {
    images = await startFakeUpstream(async (request, response) => {
      const path = request.path
      if (path === '/cat.png' || path === '/cat.png?size=small') {
        response.writeHead(200, { 'content-type': 'image/png; charset=binary' })
        response.end(png)
      } else if (path === '/big.png') {
        // No content-length: the cap has to hold while the body streams.
        response.writeHead(200, { 'content-type': 'image/png' })
        bigChunksWritten = 0
        for (let index = 0; index < 20 && !response.destroyed; index++) {
          response.write(Buffer.alloc(500, index))
          bigChunksWritten++
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        response.end()
      } else if (path === '/declared-big.png') {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000' })
        response.end(Buffer.alloc(5000))
      } else if (path === '/page.html') {
        response.writeHead(200, { 'content-type': 'text/html' })
        response.end('<html></html>')
      } else if (path === '/to-loopback-literal') {
        response.writeHead(302, { location: `http://127.0.0.1:${imagePort}/cat.png` })
        response.end()
      } else if (path === '/to-same-host') {
        response.writeHead(301, { location: '/cat.png?size=small' })
        response.end()
      } else if (path.startsWith('/loop')) {
        response.writeHead(307, { location: `/loop${path.length}` })
        response.end()
      } else if (path === '/slow.png') {
        await new Promise((resolve) => setTimeout(resolve, 3_000))
        response.end()
      } else {
        response.writeHead(404)
        response.end()
      }
    })
    imagePort = new URL(images.url).port
    upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 200, completion('vision-model', 'A small image.')),
    )
  })
  after(async () => {
    await Promise.all(closers.map((close) => close()))
    await images.close()
    await upstream.close()
  })

  /** A provider whose adapter asks for inlining, with `server.image_fetch` read by the real schema. */
  function providerWith(imageFetch: Record<string, unknown>): Provider {
    const config = configSchema.parse({ server: { image_fetch: imageFetch } }).server.image_fetch
    const imageInliner = createImageInliner(config, resolve)
    const transport = createHttpTransport({ ...defaultHttpTimeouts, maxConnections: undefined })
    closers.push(imageInliner.close, transport.close)
    const adapter = createOpenAICompatibleAdapter({
      baseUrl: `${upstream.url}/v1`,
      authHeaders: {},
      streamUsage: false,
      secrets: [],
      label: 'vision',
    })
    return {
      name: 'vision',
      kind: 'test',
      adapter: { ...adapter, inlinesImageUrls: true },
      transport,
      imageInliner,
    }
  }

  const target = {
    upstreamModel: 'vision-model',
    requestedModel: 'vision',
    stream: false,
    clientWantsUsage: false,
  }

  function askAbout(...urls: string[]): ChatRequest {
    return {
      model: 'vision',
      messages: [
        { role: 'system', content: 'Describe images.' },
        {
          role: 'user',
          content: [
            ...urls.map((url) => ({
              type: 'image_url' as const,
              image_url: { url, detail: 'low' as const },
            })),
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    }
  }

  const sentMessages = () =>
    (upstream.requests.at(-1)!.body as { messages: ChatRequest['messages'] }).messages

  async function assertRefused(
    provider: Provider,
    request: ChatRequest,
    message: RegExp,
    param = 'messages[1].content[0].image_url',
  ) {
    const upstreamCalls = upstream.requests.length
    await assert.rejects(
      callTarget(provider, request, target, new AbortController().signal),
      (error) => {
        assert.ok(error instanceof GatewayError, String(error))
        assert.equal(error.status, 400)
        assert.equal(error.code, 'invalid_request')
        assert.equal(error.type, 'invalid_request_error')
        assert.equal(error.param, param)
        assert.match(error.message, message)
        return true
      },
    )
    assert.equal(upstream.requests.length, upstreamCalls, 'nothing was sent upstream')
  }

  test('by default a loopback image is refused before any connection, by address or by name', async () => {
    const provider = providerWith({})
    const before = images.requests.length
    await assertRefused(
      provider,
      askAbout(`${images.url}/cat.png`),
      /^Could not use the image at messages\[1\]\.content\[0\]\.image_url: the image host 127\.0\.0\.1 is a private or reserved address/,
    )
    await assertRefused(
      provider,
      askAbout(`http://images.test:${imagePort}/cat.png`),
      /images\.test is a private/,
    )
    await assertRefused(provider, askAbout(`http://[::1]:${imagePort}/cat.png`), /::1 is a private/)
    await assertRefused(
      provider,
      askAbout(`http://localhost:${imagePort}/cat.png`),
      /could not be downloaded \(ENOTFOUND\)/,
    )
    assert.equal(images.requests.length, before, 'the image host was never reached')
  })

  test('allowed by the operator, the image is fetched and the upstream gets the exact data URL', async () => {
    const provider = providerWith({ allow_private_hosts: ['127.0.0.1'] })
    const before = images.requests.length
    const url = `${images.url}/cat.png`
    const request = askAbout(url, 'data:image/gif;base64,R0lGODlhAQABAAAAACw=', url)
    const result = await callTarget(provider, request, target, new AbortController().signal)
    assert.equal(result.type, 'completion')
    assert.deepEqual(sentMessages(), [
      { role: 'system', content: 'Describe images.' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: pngDataUrl, detail: 'low' } },
          {
            type: 'image_url',
            image_url: { url: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=', detail: 'low' },
          },
          { type: 'image_url', image_url: { url: pngDataUrl, detail: 'low' } },
          { type: 'text', text: 'What is this?' },
        ],
      },
    ])
    // The same URL twice is downloaded once; the client's request object is left as it was.
    assert.equal(images.requests.length - before, 1)
    assert.equal(images.requests.at(-1)!.headers.accept, 'image/*')
    const original = request.messages[1]!.content as { image_url: { url: string } }[]
    assert.equal(original[0]!.image_url.url, url)
  })

  test('a host name the operator listed is fetched; every address a name resolves to is checked', async () => {
    const byName = providerWith({ allow_private_hosts: ['images.test'] })
    await callTarget(
      byName,
      askAbout(`http://images.test:${imagePort}/cat.png`),
      target,
      new AbortController().signal,
    )
    const parts = sentMessages()[1]!.content as { image_url: { url: string } }[]
    assert.equal(parts[0]!.image_url.url, pngDataUrl)
    // 127.0.0.1 is allowed, but mixed.test also resolves to 10.0.0.1: refused as a whole.
    const byAddress = providerWith({ allow_private_hosts: ['127.0.0.1'] })
    await assertRefused(
      byAddress,
      askAbout(`http://mixed.test:${imagePort}/cat.png`),
      /mixed\.test is a private/,
    )
  })

  test('redirects: followed on allowed hosts, re-checked (a hop to a private address is refused), and counted', async () => {
    const provider = providerWith({ allow_private_hosts: ['images.test'], max_redirects: 2 })
    await callTarget(
      provider,
      askAbout(`http://images.test:${imagePort}/to-same-host`),
      target,
      new AbortController().signal,
    )
    const parts = sentMessages()[1]!.content as { image_url: { url: string } }[]
    assert.equal(parts[0]!.image_url.url, pngDataUrl)
    await assertRefused(
      provider,
      askAbout(`http://images.test:${imagePort}/to-loopback-literal`),
      /127\.0\.0\.1 is a private or reserved address/,
    )
    await assertRefused(
      provider,
      askAbout(`http://images.test:${imagePort}/loop`),
      /more than 2 redirects/,
    )
  })

  test('an image over max_bytes is refused while it streams, and one that declares its size at once', async () => {
    const provider = providerWith({ allow_private_hosts: ['127.0.0.1'], max_bytes: 1000 })
    await assertRefused(provider, askAbout(`${images.url}/big.png`), /larger than 1000 bytes/)
    // The download stopped at the cap instead of reading the whole body.
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.ok(bigChunksWritten < 20, `stopped after ${bigChunksWritten} of 20 chunks`)
    await assertRefused(
      provider,
      askAbout(`${images.url}/declared-big.png`),
      /larger than 1000 bytes/,
    )
  })

  test('only images: another content type or a failed status is refused', async () => {
    const provider = providerWith({ allow_private_hosts: ['127.0.0.1'] })
    await assertRefused(
      provider,
      askAbout(`${images.url}/page.html`),
      /not an image \(content type text\/html\)/,
    )
    await assertRefused(provider, askAbout(`${images.url}/missing.png`), /answered with status 404/)
  })

  test('the part that failed is the one named, among several', async () => {
    const provider = providerWith({ allow_private_hosts: ['127.0.0.1'] })
    await assertRefused(
      provider,
      askAbout(`${images.url}/cat.png`, `${images.url}/page.html`),
      /^Could not use the image at messages\[1\]\.content\[1\]\.image_url: the URL is not an image/,
      'messages[1].content[1].image_url',
    )
  })

  test('a slow image host runs into timeout_ms; a client that goes away cancels the download', async () => {
    const provider = providerWith({ allow_private_hosts: ['127.0.0.1'], timeout_ms: 300 })
    const started = Date.now()
    await assertRefused(provider, askAbout(`${images.url}/slow.png`), /took longer than 300 ms/)
    assert.ok(Date.now() - started < 2_000)

    const patient = providerWith({ allow_private_hosts: ['127.0.0.1'] })
    const client = new AbortController()
    setTimeout(() => client.abort(), 100)
    const abortStarted = Date.now()
    await assert.rejects(
      callTarget(patient, askAbout(`${images.url}/slow.png`), target, client.signal),
      (error) => error instanceof GatewayError && /cancelled/.test(error.message),
    )
    assert.ok(Date.now() - abortStarted < 2_000)
  })

  test('requests without remote image URLs skip the download step entirely', async () => {
    const text: ChatRequest = { model: 'vision', messages: [{ role: 'user', content: 'Hi' }] }
    const inline = askAbout('data:image/png;base64,AAAA')
    assert.equal(hasRemoteImageUrls(text), false)
    assert.equal(hasRemoteImageUrls(inline), false)
    assert.equal(hasRemoteImageUrls(askAbout('HTTPS://example.com/a.png')), true)
    const provider = providerWith({})
    const before = images.requests.length
    await callTarget(provider, inline, target, new AbortController().signal)
    assert.deepEqual(sentMessages(), inline.messages)
    assert.equal(images.requests.length, before)
  })
})
