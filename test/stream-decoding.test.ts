/**
 * An upstream's stream reaches the gateway in reads that need not end between characters: a
 * multi-byte character can be cut in two, and the first read can start with a byte-order mark.
 * Whatever the cuts, the client gets the text the upstream wrote, character for character.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'
import { chunk } from './helpers/openai-fixtures.ts'

let upstream: FakeUpstream
let gateway: TestGateway

before(async () => {
  upstream = await startFakeUpstream(() => {})
  gateway = await startTestGateway(`
providers:
  vllm: { kind: openai, base_url: "${upstream.url}/v1" }
models:
  - { id: small, type: text-generation, route: { provider: vllm } }
`)
})
after(async () => {
  await gateway.stop(0)
  await upstream.close()
})

const event = (content: string) =>
  Buffer.from(`data: ${JSON.stringify(chunk('m', { content }))}\n\n`)

/** The bytes cut at `cuts` (offsets into the whole), each piece its own write, 15 ms apart. */
function sendCut(whole: Buffer, cuts: number[]) {
  upstream.handle(async (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    let from = 0
    for (const at of [...cuts, whole.length]) {
      response.write(whole.subarray(from, at))
      from = at
      await sleep(15)
    }
    response.end()
  })
}

/** Where `text` starts in `whole`, plus `offset` bytes: a cut inside its first character. */
function inside(whole: Buffer, text: string, offset: number): number {
  const at = whole.indexOf(Buffer.from(text))
  assert.ok(at !== -1, `no ${text}`)
  return at + offset
}

async function streamedContent(): Promise<string> {
  const stream = await gateway.client.chat.completions.create({
    model: 'small',
    messages: [{ role: 'user', content: 'Hi' }],
    stream: true,
  })
  let content = ''
  for await (const part of stream) content += part.choices[0]?.delta.content ?? ''
  return content
}

test('characters cut between reads, a byte-order mark first, arrive whole', async () => {
  const words = ['héllo', ' wörld', ' 😀 grin', ' ünïcode', ' plain ascii', ' €uro', ' end']
  const whole = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    ...words.map(event),
    Buffer.from(`data: ${JSON.stringify(chunk('m', {}, 'stop'))}\n\ndata: [DONE]\n\n`),
  ])
  sendCut(whole, [
    // In the middle of é (2 bytes), in the very first read, after the mark.
    inside(whole, 'é', 1),
    // After a read that ended on an ASCII byte: in the middle of 😀 (4 bytes), twice.
    inside(whole, '😀', 1),
    inside(whole, '😀', 3),
    // A read that ends right after a whole multi-byte character.
    inside(whole, 'ü', 2),
    // Reads that end on ASCII bytes, then one inside € (3 bytes).
    inside(whole, ' plain', 0),
    inside(whole, '€', 2),
  ])
  assert.equal(await streamedContent(), words.join(''))
})

test('a character cut in every read', async () => {
  const words = Array.from({ length: 12 }, (_, index) => ` ${index}:ßæø中文`)
  const whole = Buffer.concat([
    ...words.map(event),
    Buffer.from(`data: ${JSON.stringify(chunk('m', {}, 'stop'))}\n\ndata: [DONE]\n\n`),
  ])
  const cuts: number[] = []
  let from = 0
  for (let index = 0; index < words.length; index++) {
    const at = whole.indexOf(Buffer.from('中'), from)
    cuts.push(at + 1 + (index % 2))
    from = at + 3
  }
  sendCut(whole, cuts)
  assert.equal(await streamedContent(), words.join(''))
})

test('a byte-order mark is dropped when the first read ends between characters', async () => {
  const words = ['first', ' second', ' third']
  const whole = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    ...words.map(event),
    Buffer.from(`data: ${JSON.stringify(chunk('m', {}, 'stop'))}\n\ndata: [DONE]\n\n`),
  ])
  // The first read is the mark and a whole event; the second starts with the next one.
  sendCut(whole, [inside(whole, 'data: ', 0) + event('first').length])
  assert.equal(await streamedContent(), words.join(''))
})
