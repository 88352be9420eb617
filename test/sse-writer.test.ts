/**
 * The SSE writer under a slow client: a long stream that arrives in a burst fills the client's
 * socket while the client is not reading; the writer waits for it to drain and loses or reorders
 * nothing (chunks of one tick leave as one write).
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, testKey } from './helpers/gateway.ts'
import { chunk } from './helpers/openai-fixtures.ts'

test('a slow client gets every chunk of a long burst, in order', { timeout: 20_000 }, async () => {
  const words = Array.from({ length: 3000 }, (_, index) => `w${index}:${'x'.repeat(1000)} `)
  const upstream = await startFakeUpstream((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    let text = `data: ${JSON.stringify(chunk('m', { role: 'assistant', content: '' }))}\n\n`
    for (const word of words) text += `data: ${JSON.stringify(chunk('m', { content: word }))}\n\n`
    text += `data: ${JSON.stringify(chunk('m', {}, 'stop'))}\n\ndata: [DONE]\n\n`
    response.end(text)
  })
  const gateway = await startTestGateway(`
providers: { up: { kind: openai, base_url: "${upstream.url}/v1" } }
models: [ { id: long, type: text-generation, route: { provider: up } } ]
`)
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const outgoing = request(
        `${gateway.baseURL}/chat/completions`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' },
        },
        (response) => {
          let text = ''
          response.setEncoding('utf8')
          let paused = false
          response.on('data', (data: string) => {
            text += data
            if (paused) return
            // Stop reading for a while: the gateway's writes back up behind a full socket.
            paused = true
            response.pause()
            void sleep(500).then(() => response.resume())
          })
          response.on('end', () => resolve(text))
          response.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(
        JSON.stringify({
          model: 'long',
          stream: true,
          messages: [{ role: 'user', content: 'go' }],
        }),
      )
    })
    const events = body.split('\n\n').filter((event) => event !== '')
    assert.equal(events.at(-1), 'data: [DONE]')
    let content = ''
    for (const event of events.slice(0, -1)) {
      const parsed = JSON.parse(event.slice('data: '.length)) as {
        choices: { delta: { content?: string } }[]
      }
      content += parsed.choices[0]?.delta.content ?? ''
    }
    assert.equal(content, words.join(''))
  } finally {
    await gateway.stop(0)
    await upstream.close()
  }
})
