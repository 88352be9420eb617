/**
 * The one error catalogue. Every failure the gateway reports is a GatewayError with a code from
 * this table; only the server's error renderer turns it into an OpenAI-shaped body.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'api_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'overloaded_error'

interface CatalogueEntry {
  status: number
  type: ErrorType
}

const catalogue = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  missing_parameter: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  invalid_config: { status: 400, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  forbidden: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'not_found_error' },
  not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  insufficient_quota: { status: 429, type: 'insufficient_quota' },
  upstream_error: { status: 502, type: 'upstream_error' },
  upstream_unreachable: { status: 502, type: 'upstream_error' },
  upstream_auth: { status: 502, type: 'upstream_error' },
  upstream_overloaded: { status: 503, type: 'overloaded_error' },
  no_healthy_target: { status: 503, type: 'overloaded_error' },
  shutting_down: { status: 503, type: 'api_error' },
  client_disconnected: { status: 499, type: 'api_error' },
  limits_unavailable: { status: 503, type: 'api_error' },

  store_unavailable: { status: 503, type: 'api_error' },
  metrics_unavailable: { status: 503, type: 'api_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  internal_error: { status: 500, type: 'api_error' },
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof catalogue

export interface GatewayErrorOptions {
  /** Overrides the catalogue status, e.g. to relay an upstream 4xx as is. */
  status?: number
  /** Overrides the catalogue type, e.g. to relay an upstream's own error type. */
  type?: string
  param?: string | null
  /** Seconds the client should wait, rendered as `retry-after`. */
  retryAfter?: number
  /** The `code` shown to the client when it differs from ours (an upstream's own code). */
  publicCode?: string | null
  /** Extra response headers, e.g. the rate-limit state on a 429. */
  headers?: Record<string, string>
  cause?: unknown
}

export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly type: string
  readonly param: string | null
  readonly retryAfter: number | undefined
  readonly publicCode: string | null
  /** The status the upstream answered, before mapping; routing matches `on_status_codes` on it. */
  upstreamStatus: number | undefined = undefined

  readonly headers: Record<string, string> | undefined

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    this.status = options.status ?? catalogue[code].status
    this.type = options.type ?? catalogue[code].type
    this.param = options.param ?? null
    this.retryAfter = options.retryAfter
    this.publicCode = options.publicCode === undefined ? code : options.publicCode
    this.headers = options.headers
  }

  toBody(): {
    error: { message: string; type: string; param: string | null; code: string | null }
  } {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.publicCode },
    }
  }
}
