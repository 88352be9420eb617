/**
 * A stream counts as in flight on its target from the attempt until the client has read its end,
 * or stopped reading: `least_busy` balancing sees it while it is open and stops seeing it once it
 * is over, whichever way it ended.
 */
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'
import { chunk } from './helpers/openai-fixtures.ts'

let heavy: FakeUpstream
let light: FakeUpstream
let gateway: TestGateway
/** Streams the heavy upstream holds open after their first chunk, until released. */
const held: ServerResponse[] = []

const event = (content: string) => `data: ${JSON.stringify(chunk('m', { content }))}\n\n`
const last = `data: ${JSON.stringify(chunk('m', {}, 'stop'))}\n\ndata: [DONE]\n\n`

function release(): void {
  for (const response of held.splice(0)) response.end(last)
}

before(async () => {
  heavy = await startFakeUpstream((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.write(event('heavy'))
    held.push(response)
  })
  light = await startFakeUpstream((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.end(event('light') + last)
  })
  // Ties go by weight: with nothing in flight the heavy target is all but certain.
  gateway = await startTestGateway(`
providers:
  heavy: { kind: openai, base_url: "${heavy.url}/v1" }
  light: { kind: openai, base_url: "${light.url}/v1" }
models:
  - id: pool
    type: text-generation
    route:
      strategy: { mode: loadbalance, balance: least_busy }
      targets: [{ provider: heavy, weight: 1000000 }, { provider: light, weight: 1 }]
`)
})
after(async () => {
  release()
  await gateway.stop(0)
  await heavy.close()
  await light.close()
})

async function open() {
  const { data, response } = await gateway.client.chat.completions
    .create({ model: 'pool', messages: [{ role: 'user', content: 'Hi' }], stream: true })
    .withResponse()
  return { stream: data, provider: response.headers.get('x-switchyard-provider') }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<number> {
  let parts = 0
  for await (const _ of stream) parts++
  return parts
}

test('a stream read to its end stops counting once it is over', async () => {
  const first = await open()
  assert.equal(first.provider, 'heavy')
  // The first is still open on the heavy target: the next goes to the idle one.
  const second = await open()
  assert.equal(second.provider, 'light')
  assert.ok((await readAll(second.stream)) > 0)
  release()
  assert.ok((await readAll(first.stream)) > 0)
  // Both over: the heavy target is idle again and wins the tie.
  const third = await open()
  assert.equal(third.provider, 'heavy')
  release()
  await readAll(third.stream)
})

test('a stream the client stops reading stops counting too', async () => {
  const first = await open()
  assert.equal(first.provider, 'heavy')
  const upstreamClosed = new Promise((resolve) => held.at(-1)?.once('close', resolve))
  for await (const _ of first.stream) break
  // The gateway aborts the upstream request once it hears the client go; then the stream is over.
  await upstreamClosed
  await sleep(100)
  const next = await open()
  assert.equal(next.provider, 'heavy')
  release()
  await readAll(next.stream)
})
