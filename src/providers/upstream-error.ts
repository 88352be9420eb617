/**
 * Shared mapping from an upstream's error (already read out of its provider-specific body) to a
 * gateway error with the status an OpenAI client expects.
 */
import { GatewayError } from '../core/errors.ts'

export interface UpstreamErrorFacts {
  status: number
  message?: string | undefined
  type?: string | undefined
  code?: string | null | undefined
  param?: string | null | undefined
  /** The provider says it is overloaded (Anthropic 529, Gemini UNAVAILABLE). */
  overloaded?: boolean
  headers: Record<string, string | undefined>
}

export function mapUpstreamError(
  facts: UpstreamErrorFacts,
  provider: string,
  secrets: readonly string[],
): GatewayError {
  const { status } = facts
  const relayed = facts.message?.trim()
  const message = relayed
    ? scrubSecrets(relayed, secrets)
    : `Upstream ${provider} answered ${status}`
  const retryAfter = parseRetryAfter(facts.headers)
  const retry = retryAfter === undefined ? {} : { retryAfter }
  if (status === 401 || status === 403) {
    // The client's key is fine; ours was refused. Never relay the upstream text: it may quote the key.
    return new GatewayError(
      'upstream_auth',
      `Upstream ${provider} refused the gateway's credentials (status ${status}); check the provider's api_key`,
    )
  }
  if (status === 429) {
    return new GatewayError('rate_limit_exceeded', message, {
      ...retry,
      publicCode: facts.code ?? 'rate_limit_exceeded',
    })
  }
  if (facts.overloaded || status === 503 || status === 529) {
    return new GatewayError('upstream_overloaded', message, { ...retry, status: 503 })
  }
  if (status === 504 || status === 408) {
    return new GatewayError('upstream_timeout', message, { status: status === 408 ? 408 : 504 })
  }
  if (status >= 500) {
    return new GatewayError('upstream_error', message, { status: 502 })
  }
  return new GatewayError('upstream_error', message, {
    status,
    type: facts.type ?? 'invalid_request_error',
    param: facts.param ?? null,
    publicCode: facts.code ?? null,
  })
}

/** `retry-after-ms` (OpenAI) wins over `retry-after` (seconds or an HTTP date). Seconds out. */
export function parseRetryAfter(headers: Record<string, string | undefined>): number | undefined {
  const milliseconds = Number(headers['retry-after-ms'])
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(milliseconds)) {
    return Math.max(0, milliseconds / 1000)
  }
  const value = headers['retry-after']
  if (value === undefined) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000)
}

/** Reads `{ error: { message, type, code, param } }` or `{ message }` bodies; tolerant of junk. */
export function readJsonError(body: string): {
  message?: string
  type?: string
  code?: string | null
  param?: string | null
} {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return body.length > 0 && body.length < 500 ? { message: body } : {}
  }
  const record = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | null
  if (record === null || typeof record !== 'object') return {}
  const inner = (
    typeof record.error === 'object' && record.error !== null ? record.error : record
  ) as Record<string, unknown>
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined)
  const result: { message?: string; type?: string; code?: string | null; param?: string | null } =
    {}
  const message = text(inner.message) ?? text(record.error) ?? text(record.detail)
  if (message !== undefined) result.message = message
  const type = text(inner.type) ?? text(inner.status)
  if (type !== undefined) result.type = type
  const code = text(inner.code) ?? (typeof inner.code === 'number' ? String(inner.code) : undefined)
  if (code !== undefined) result.code = code
  const param = text(inner.param)
  if (param !== undefined) result.param = param
  return result
}

// Key shapes of the big providers, scrubbed even when they are not ours (a misrouted key).
const keyShapes = /\b(?:sk-(?:ant-)?[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,})/g

/** Removes every configured secret, and anything shaped like a provider key, from upstream text. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text.replace(keyShapes, '[redacted]')
  for (const secret of secrets) {
    if (secret.length >= 4) scrubbed = scrubbed.split(secret).join('[redacted]')
  }
  return scrubbed
}
