/**
 * A fast fake LLM upstream for the bench: OpenAI chat completions and Anthropic messages, each
 * unstreamed or streamed, with every body built once per chunk count so the hot path only copies
 * buffers. It must never be the bottleneck of what it measures.
 *
 *   node bench/mock-upstream.ts [--port 18080] [--chunks 20] [--chunk-delay-ms 0] [--latency-ms 0]
 *
 * Any path ending in `/chat/completions` answers in OpenAI's format, any ending in `/messages`
 * in Anthropic's. Per-request overrides: `x-mock-chunks`, `x-mock-chunk-delay-ms`,
 * `x-mock-latency-ms` and `x-mock-first-chunk-pause-ms` (a pause after the first chunk only).
 * `--chunk-delay-ms 0` yields to the event loop between chunks (separate writes, like a real
 * upstream), `-1` writes the whole stream at once, `>0` sleeps between chunks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '18080' },
    host: { type: 'string', default: '127.0.0.1' },
    chunks: { type: 'string', default: '20' },
    'chunk-delay-ms': { type: 'string', default: '0' },
    'latency-ms': { type: 'string', default: '0' },
  },
})
const defaultChunks = Math.max(3, Number(values.chunks))
const defaultChunkDelayMs = Number(values['chunk-delay-ms'])
const defaultLatencyMs = Number(values['latency-ms'])

const created = Math.floor(Date.now() / 1000)
const words = (
  'Sure! Here is a concise answer to your question. The quick brown fox jumps over the lazy dog, ' +
  'while the gateway forwards every token without adding noticeable latency or memory.'
).split(' ')

interface Bodies {
  openaiJson: Buffer
  openaiEvents: Buffer[]
  openaiUsageEvent: Buffer
  anthropicJson: Buffer
  anthropicEvents: Buffer[]
}

const openaiDone = Buffer.from('data: [DONE]\n\n')
const bodiesByChunks = new Map<number, Bodies>()

/** `chunks` counts the data events of an OpenAI stream before `[DONE]`, as a client sees them. */
function bodiesFor(chunks: number): Bodies {
  const cached = bodiesByChunks.get(chunks)
  if (cached !== undefined) return cached
  const tokens = Array.from({ length: chunks - 2 }, (_, index) =>
    index === 0 ? words[0]! : ` ${words[index % words.length]}`,
  )
  const content = tokens.join('')
  const usage = {
    prompt_tokens: 27,
    completion_tokens: tokens.length,
    total_tokens: 27 + tokens.length,
  }
  const model = 'gpt-4o-mini-2024-07-18'
  const id = 'chatcmpl-bench0000000000000001'
  const openaiChunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    Buffer.from(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_bench', choices, ...extra })}\n\n`,
    )
  const choice = (delta: unknown, finishReason: string | null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  })
  const anthropicModel = 'claude-sonnet-4-5-20250929'
  const anthropicEvent = (type: string, data: Record<string, unknown>) =>
    Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`)
  const anthropicUsage = { input_tokens: 27, output_tokens: tokens.length }
  const bodies: Bodies = {
    openaiJson: Buffer.from(
      JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
        service_tier: 'default',
        system_fingerprint: 'fp_bench',
      }),
    ),
    openaiEvents: [
      openaiChunk([choice({ role: 'assistant', content: '', refusal: null }, null)]),
      ...tokens.map((token) => openaiChunk([choice({ content: token }, null)])),
      openaiChunk([choice({}, 'stop')]),
    ],
    openaiUsageEvent: openaiChunk([], { usage }),
    anthropicJson: Buffer.from(
      JSON.stringify({
        id: 'msg_bench0000000000000001',
        type: 'message',
        role: 'assistant',
        model: anthropicModel,
        content: [{ type: 'text', text: content }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: anthropicUsage,
      }),
    ),
    anthropicEvents: [
      anthropicEvent('message_start', {
        message: {
          id: 'msg_bench0000000000000001',
          type: 'message',
          role: 'assistant',
          model: anthropicModel,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 27, output_tokens: 1 },
        },
      }),
      anthropicEvent('content_block_start', {
        index: 0,
        content_block: { type: 'text', text: '' },
      }),
      ...tokens.map((token) =>
        anthropicEvent('content_block_delta', {
          index: 0,
          delta: { type: 'text_delta', text: token },
        }),
      ),
      anthropicEvent('content_block_stop', { index: 0 }),
      anthropicEvent('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: tokens.length },
      }),
      anthropicEvent('message_stop', {}),
    ],
  }
  bodiesByChunks.set(chunks, bodies)
  return bodies
}
bodiesFor(defaultChunks)

const jsonHeaders = { 'content-type': 'application/json', 'x-request-id': 'req_bench' }
const streamHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-request-id': 'req_bench',
}
const streamPattern = /"stream"\s*:\s*true/
const includeUsagePattern = /"include_usage"\s*:\s*true/

function sendJson(response: ServerResponse, status: number, body: Buffer): void {
  response.writeHead(status, { ...jsonHeaders, 'content-length': body.length })
  response.end(body)
}

function sendStream(
  response: ServerResponse,
  events: Buffer[],
  delayMs: number,
  firstPauseMs: number,
): void {
  response.writeHead(200, streamHeaders)
  if (delayMs < 0) {
    response.end(Buffer.concat(events))
    return
  }
  let next = 0
  const step = () => {
    if (response.destroyed) return
    if (next === events.length - 1) {
      response.end(events[next])
      return
    }
    response.write(events[next++])
    if (next === 1 && firstPauseMs > 0) setTimeout(step, firstPauseMs)
    else if (delayMs > 0) setTimeout(step, delayMs)
    else setImmediate(step)
  }
  step()
}

function numberHeader(request: IncomingMessage, name: string, fallback: number): number {
  const value = request.headers[name]
  return typeof value === 'string' && value !== '' ? Number(value) : fallback
}

function answer(request: IncomingMessage, response: ServerResponse, body: string, path: string) {
  const chunks = Math.min(
    100_000,
    Math.max(3, numberHeader(request, 'x-mock-chunks', defaultChunks)),
  )
  const bodies = bodiesFor(chunks)
  const stream = streamPattern.test(body)
  const anthropic = path.endsWith('/messages')
  const go = () => {
    if (response.destroyed) return
    if (!stream) {
      sendJson(response, 200, anthropic ? bodies.anthropicJson : bodies.openaiJson)
      return
    }
    const delayMs = numberHeader(request, 'x-mock-chunk-delay-ms', defaultChunkDelayMs)
    const events = anthropic
      ? bodies.anthropicEvents
      : includeUsagePattern.test(body)
        ? [...bodies.openaiEvents, bodies.openaiUsageEvent, openaiDone]
        : [...bodies.openaiEvents, openaiDone]
    const firstPauseMs = numberHeader(request, 'x-mock-first-chunk-pause-ms', 0)
    sendStream(response, events, delayMs, firstPauseMs)
  }
  const latencyMs = numberHeader(request, 'x-mock-latency-ms', defaultLatencyMs)
  if (latencyMs > 0) setTimeout(go, latencyMs)
  else go()
}

const models = Buffer.from(
  JSON.stringify({
    object: 'list',
    data: [{ id: 'gpt-4o-mini', object: 'model', created: 1715367049, owned_by: 'system' }],
  }),
)
const notFound = Buffer.from(
  JSON.stringify({ error: { message: 'Unknown request URL', type: 'invalid_request_error' } }),
)

const server = createServer((request, response) => {
  const url = request.url ?? '/'
  const queryAt = url.indexOf('?')
  const path = queryAt === -1 ? url : url.slice(0, queryAt)
  if (
    request.method === 'POST' &&
    (path.endsWith('/chat/completions') || path.endsWith('/messages'))
  ) {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (text: string) => {
      body += text
    })
    request.on('end', () => answer(request, response, body, path))
    return
  }
  request.resume()
  if (request.method === 'GET' && path.endsWith('/models')) sendJson(response, 200, models)
  else sendJson(response, 404, notFound)
})
server.keepAliveTimeout = 120_000
server.headersTimeout = 125_000
server.requestTimeout = 0
server.maxRequestsPerSocket = 0
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`mock-upstream listening on http://${values.host}:${values.port}\n`)
})
process.once('SIGTERM', () => process.exit(0))
