/**
 * The only place responses and errors are rendered. Both carry the request's own headers
 * (`context.headers`: the request id, rate-limit headers) in the one `writeHead`.
 */
import { GatewayError } from '../core/errors.ts'
import type { RequestContext } from './context.ts'

type Reply = Pick<RequestContext, 'response' | 'headers'>

export function sendJson(
  { response, headers }: Reply,
  status: number,
  body: unknown,
  extraHeaders?: Record<string, string>,
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  // The request's own headers object takes the last two: a literal with named fields after a
  // spread defines each of them through V8's runtime, on every response.
  const all = extraHeaders === undefined ? headers : { ...headers, ...extraHeaders }
  all['content-type'] = 'application/json'
  all['content-length'] = String(Buffer.byteLength(text))
  response.writeHead(status, all)
  response.end(text)
}

/** Renders any thrown value as an OpenAI-shaped error; unknown failures become a bare 500. */
export function sendError(reply: Reply, error: unknown): GatewayError {
  const { response } = reply
  const failure =
    error instanceof GatewayError
      ? error
      : new GatewayError('internal_error', 'The gateway failed to handle the request', {
          cause: error,
        })
  if (response.headersSent) {
    if (!response.writableEnded) response.end()
    return failure
  }
  const errorHeaders: Record<string, string> = { ...failure.headers }
  if (failure.retryAfter !== undefined)
    errorHeaders['retry-after'] = String(Math.ceil(failure.retryAfter))
  sendJson(reply, failure.status, failure.toBody(), errorHeaders)
  return failure
}
