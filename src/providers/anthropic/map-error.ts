/**
 * Anthropic errors (`{"type":"error","error":{"type","message"}}`, as an HTTP body or a
 * mid-stream `error` event) as gateway errors, through the shared mapping.
 */
import type { GatewayError } from '../../core/errors.ts'
import { mapUpstreamError, readJsonError } from '../upstream-error.ts'

export const providerLabel = 'Anthropic'

/** The status Anthropic gives each error type over HTTP; a stream's `error` event has none. */
const statusByType: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
}

export function mapError(
  status: number,
  body: string,
  headers: Record<string, string | undefined>,
  secrets: readonly string[],
): GatewayError {
  const facts = readJsonError(body)
  return mapUpstreamError(
    {
      status,
      message: facts.message,
      type: facts.type,
      overloaded: facts.type === 'overloaded_error' || status === 529,
      headers,
    },
    providerLabel,
    secrets,
  )
}

/** An `error` event in a 200 stream: its status comes from its type. */
export function mapStreamError(data: string, secrets: readonly string[]): GatewayError {
  const { type } = readJsonError(data)
  return mapError(statusByType[type ?? ''] ?? 500, data, {}, secrets)
}
