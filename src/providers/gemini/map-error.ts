/**
 * Gemini error bodies (`{ error: { code, message, status, details } }`, Google's RPC status) to
 * gateway errors, through the shared mapping so every provider answers alike.
 */
import type { GatewayError } from '../../core/errors.ts'
import { mapUpstreamError } from '../upstream-error.ts'
import type { GeminiErrorBody } from './wire-types.ts'

type GeminiError = GeminiErrorBody['error']

/** RPC status names whose meaning the HTTP status alone does not carry. */
const statusByName: Record<string, number> = {
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  DEADLINE_EXCEEDED: 504,
}

export function parseGeminiError(
  status: number,
  body: string,
  headers: Record<string, string | undefined>,
  secrets: readonly string[],
): GatewayError {
  return mapGeminiError(status, readErrorBody(body), headers, secrets)
}

export function mapGeminiError(
  httpStatus: number,
  error: GeminiError | undefined,
  headers: Record<string, string | undefined>,
  secrets: readonly string[],
): GatewayError {
  const reasons = new Set(error?.details?.map((detail) => detail.reason))
  // A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID: still our credential's fault.
  const status = reasons.has('API_KEY_INVALID')
    ? 401
    : (statusByName[error?.status ?? ''] ?? httpStatus)
  const retryDelay = error?.details?.find((detail) => detail.retryDelay !== undefined)?.retryDelay
  const retryHeaders =
    headers['retry-after'] === undefined && retryDelay !== undefined
      ? { ...headers, 'retry-after': String(Number.parseFloat(retryDelay)) }
      : headers
  return mapUpstreamError(
    {
      status,
      message: error?.message,
      type: 'invalid_request_error',
      // OpenAI's code for an unknown model; Gemini's NOT_FOUND on generateContent is exactly that.
      code: error?.status === 'NOT_FOUND' ? 'model_not_found' : null,
      overloaded: error?.status === 'UNAVAILABLE',
      headers: retryHeaders,
    },
    'Gemini',
    secrets,
  )
}

/** Unstreamed errors are an object; `streamGenerateContent` without SSE wraps it in a list. */
function readErrorBody(body: string): GeminiError | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return body.length > 0 && body.length < 500 ? { message: body } : undefined
  }
  const record = Array.isArray(parsed) ? parsed[0] : parsed
  if (record === null || typeof record !== 'object') return undefined
  const error = (record as { error?: unknown }).error
  if (error === null || typeof error !== 'object') return undefined
  return narrowError(error as Record<string, unknown>)
}

/** Keeps the fields of Google's RPC status that have the expected types. */
export function narrowError(error: Record<string, unknown>): GeminiError {
  const { code, message, status, details } = error
  const result: GeminiError = {}
  if (typeof code === 'number') result.code = code
  if (typeof message === 'string') result.message = message
  if (typeof status === 'string') result.status = status
  if (Array.isArray(details)) {
    result.details = details.filter(
      (detail): detail is NonNullable<GeminiError['details']>[number] =>
        detail !== null && typeof detail === 'object',
    )
  }
  return result
}
