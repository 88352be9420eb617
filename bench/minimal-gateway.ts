/**
 * The least a gateway that accounts for usage can do, as a reference beside the minimal proxy: a
 * node:http server that reads the whole request, checks its key, parses it and serialises it
 * again with the upstream's model, sends it through an undici Pool, reads the whole answer, parses
 * it for its usage and writes it back. No validation, routing, limits, logs or extra headers.
 * What Switchyard costs above this is its features; what this costs above the proxy is reading
 * both bodies, which any gateway that counts tokens on unstreamed requests pays.
 *
 *   node bench/minimal-gateway.ts [--port 18082] [--upstream http://127.0.0.1:18080]
 *                                 [--key sk-upstream-bench] [--model gpt-4o-mini-2024-07-18]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '18082' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string', default: 'http://127.0.0.1:18080' },
    /** The one client key accepted, also sent upstream. */
    key: { type: 'string', default: 'sk-upstream-bench' },
    model: { type: 'string', default: 'gpt-4o-mini-2024-07-18' },
  },
})

const authorization = `Bearer ${values.key}`
const pool = new Pool(values.upstream, {
  connections: 2048,
  pipelining: 1,
  keepAliveTimeout: 30_000,
})
let tokens = 0

function answer(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

function error(response: ServerResponse, status: number, message: string): void {
  answer(response, status, JSON.stringify({ error: { message, type: 'gateway_error' } }))
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.headers.authorization !== authorization) return error(response, 401, 'bad key')
  const body = JSON.parse(await readBody(request)) as { model?: unknown; stream?: unknown }
  if (body.stream === true) return error(response, 400, 'unstreamed requests only')
  body.model = values.model
  const upstream = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(body),
  })
  const text = await upstream.body.text()
  const parsed = JSON.parse(text) as { usage?: { total_tokens?: number } }
  tokens += parsed.usage?.total_tokens ?? 0
  answer(response, upstream.statusCode, text)
}

const server = createServer((request, response) => {
  forward(request, response).catch((failure: unknown) => {
    if (response.headersSent) response.destroy()
    else error(response, 502, (failure as Error).message)
  })
})
server.keepAliveTimeout = 65_000
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`minimal gateway on http://${values.host}:${values.port}\n`)
})
process.on('SIGTERM', () => {
  process.stdout.write(`tokens counted: ${tokens}\n`)
  server.close()
  void pool.close()
  process.exit(0)
})
