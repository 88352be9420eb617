/** The only place responses and errors are rendered. */
import type { ServerResponse } from 'node:http'
import { GatewayError } from '../core/errors.ts'

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

/** Renders any thrown value as an OpenAI-shaped error; unknown failures become a bare 500. */
export function sendError(
  response: ServerResponse,
  error: unknown,
  headers: Record<string, string> = {},
): GatewayError {
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
  const errorHeaders: Record<string, string> = { ...headers, ...failure.headers }
  if (failure.retryAfter !== undefined)
    errorHeaders['retry-after'] = String(Math.ceil(failure.retryAfter))
  sendJson(response, failure.status, failure.toBody(), errorHeaders)
  return failure
}
