/**
 * The thinnest reasonable Node reverse proxy, the physical limit of one extra hop on Node: a
 * node:http server forwarding every request to one upstream through an undici Pool, streaming
 * bodies both ways without parsing them. Switchyard is measured against it.
 *
 *   node bench/minimal-proxy.ts [--port 18081] [--upstream http://127.0.0.1:18080]
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '18081' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string', default: 'http://127.0.0.1:18080' },
  },
})

// Hop-by-hop headers (RFC 9110 7.6.1) and host, which the client sets itself.
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
])

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const kept: Record<string, string | string[]> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined && !hopByHop.has(name)) kept[name] = value
  }
  return kept
}

function fail(response: ServerResponse, message: string): void {
  if (response.headersSent) {
    response.destroy()
    return
  }
  const body = JSON.stringify({ error: { message, type: 'proxy_error', param: null, code: null } })
  response.writeHead(502, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  response.end(body)
}

const pool = new Pool(values.upstream, {
  connections: 2048,
  pipelining: 1,
  keepAliveTimeout: 30_000,
})

const server = createServer((request, response) => {
  response.on('close', () => {
    if (!response.writableFinished) request.destroy()
  })
  const method = request.method === 'GET' ? 'GET' : 'POST'
  pool.stream(
    {
      path: request.url ?? '/',
      method,
      headers: endToEnd(request.headers),
      body: method === 'GET' ? null : request,
      opaque: response,
    },
    ({ statusCode, headers, opaque }) => {
      const target = opaque as ServerResponse
      target.writeHead(statusCode, endToEnd(headers))
      return target
    },
    (error) => {
      if (error) fail(response, `upstream error: ${error.message}`)
    },
  )
})
server.keepAliveTimeout = 120_000
server.headersTimeout = 125_000
server.requestTimeout = 0
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`minimal-proxy listening on http://${values.host}:${values.port}\n`)
})
process.once('SIGTERM', () => process.exit(0))
