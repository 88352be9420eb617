/**
 * Image URLs through the whole gateway to a provider that only takes inline images (Gemini):
 * refused when the host is private, downloaded and inlined when the operator allows the host.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'

// A 1x1 PNG.
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)

describe('image URLs for a provider that needs them inlined', () => {
  let upstream: FakeUpstream
  let images: ReturnType<typeof createServer>
  let imageUrl: string
  let strict: TestGateway
  let permissive: TestGateway

  before(async () => {
    upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 200, {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'A cat.' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 260, candidatesTokenCount: 3, totalTokenCount: 263 },
      }),
    )
    images = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length })
      response.end(png)
    })
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve))
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/cat.png`
    const yaml = `
providers:
  google: { kind: gemini, base_url: "${upstream.url}/v1beta", api_key: AIzaTestKey0123456789abcdefghij }
models:
  - { id: vision, type: image-text-to-text, route: { provider: google, model: gemini-2.5-flash } }
`
    strict = await startTestGateway(yaml)
    permissive = await startTestGateway(
      yaml,
      {},
      { server: 'image_fetch: { allow_private_hosts: [127.0.0.1] }' },
    )
  })
  after(async () => {
    await strict.stop(0)
    await permissive.stop(0)
    await upstream.close()
    images.close()
  })

  const ask = (client: OpenAI) =>
    client.chat.completions.create({
      model: 'vision',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: imageUrl } },
          ],
        },
      ],
    })

  test('a loopback image URL is refused with a 400 naming the part; nothing reaches the upstream', async () => {
    const before = upstream.requests.length
    await assert.rejects(ask(strict.client), (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError)
      assert.equal(error.param, 'messages[0].content[1].image_url')
      return true
    })
    assert.equal(upstream.requests.length, before)
  })

  test('an allowed host is downloaded and sent inline as base64', async () => {
    const reply = await ask(permissive.client)
    assert.equal(reply.choices[0]?.message.content, 'A cat.')
    const body = upstream.requests.at(-1)!.body as {
      contents: { parts: { text?: string; inlineData?: { mimeType: string; data: string } }[] }[]
    }
    assert.deepEqual(body.contents[0]?.parts, [
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/png', data: png.toString('base64') } },
    ])
  })
})
