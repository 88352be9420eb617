/**
 * What kind of failure one attempt was, which decides whether it is retried, whether the route
 * falls back, and whether it counts against the target's circuit breaker.
 */
import type { GatewayError } from '../core/errors.ts'

export interface AttemptFailure {
  /**
   * `response`: the upstream answered with a failure status. `timeout`: no answer in time (counts
   * as status 408). `network`: no usable answer at all (refused, reset, cut before the first
   * chunk). `local`: the gateway could not build the request for this target.
   */
  kind: 'response' | 'timeout' | 'network' | 'local'
  /** The status matched against `on_status_codes`; undefined for network failures. */
  status: number | undefined
}

/** Statuses retried when a retry policy names none (Portkey's, plus timeouts). */
export const defaultRetryStatusCodes: readonly number[] = [408, 429, 500, 502, 503, 504]

export function classifyFailure(error: GatewayError): AttemptFailure {
  if (error.upstreamStatus !== undefined) return { kind: 'response', status: error.upstreamStatus }
  if (error.code === 'upstream_timeout') return { kind: 'timeout', status: 408 }
  if (error.code.startsWith('upstream_')) return { kind: 'network', status: undefined }
  return { kind: 'local', status: error.status }
}

/** The same request to the same target may succeed on a second try. */
export function isRetriable(failure: AttemptFailure, statusCodes: readonly number[]): boolean {
  if (failure.kind === 'network') return true
  if (failure.kind === 'local') return false
  return failure.status !== undefined && statusCodes.includes(failure.status)
}

/** A fallback moves on: on any failure by default (as Portkey), else on the listed statuses. */
export function fallsBack(
  failure: AttemptFailure,
  statusCodes: readonly number[] | undefined,
): boolean {
  if (statusCodes === undefined || failure.kind === 'network') return true
  return failure.status !== undefined && statusCodes.includes(failure.status)
}

/** Failures that say the target is unwell, not that the request was wrong. */
export function countsAgainstTarget(failure: AttemptFailure): boolean {
  if (failure.kind === 'network' || failure.kind === 'timeout') return true
  if (failure.kind === 'local' || failure.status === undefined) return false
  return failure.status >= 500 || failure.status === 429
}
