/**
 * A fake upstream on loopback for tests: records every request it receives and answers with
 * whatever the test's handler writes, in the provider's real wire format.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown
  /** The body as it arrived. */
  text: string
  /** Resolves when the gateway closed this request's connection (abort detection). */
  closed: Promise<void>
}

export type UpstreamHandler = (
  request: RecordedRequest,
  response: ServerResponse,
) => void | Promise<void>

export interface FakeUpstream {
  url: string
  requests: RecordedRequest[]
  handle(handler: UpstreamHandler): void
  close(): Promise<void>
}

export async function startFakeUpstream(handler: UpstreamHandler): Promise<FakeUpstream> {
  let current = handler
  const requests: RecordedRequest[] = []
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {}
    const closed = new Promise<void>((resolve) => response.once('close', () => resolve()))
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: request.headers,
      body,
      text,
      closed,
    }
    requests.push(recorded)
    try {
      await current(recorded, response)
    } catch (error) {
      if (!response.headersSent) response.writeHead(500)
      response.end(String(error))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      current = next
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(text)
}

/** Writes server-sent events one write per event, yielding to the event loop between them. */
export async function sendEvents(
  response: ServerResponse,
  events: readonly { event?: string; data: unknown }[],
  options: { delayMs?: number; end?: boolean } = {},
): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const { event, data } of events) {
    const text = typeof data === 'string' ? data : JSON.stringify(data)
    response.write(`${event ? `event: ${event}\n` : ''}data: ${text}\n\n`)
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0))
  }
  if (options.end !== false) response.end()
}
