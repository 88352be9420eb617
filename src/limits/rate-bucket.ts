/**
 * Per-minute limits as token buckets in GCRA form: a bucket holds `limit` units and refills
 * continuously over a minute, so there is no window edge at which twice the limit gets through.
 * Each bucket is one number per key, its "debt": how many milliseconds until it is full again.
 * Taking `n` units adds `n * 60000 / limit` ms; a request is admitted while the debt after it
 * stays within the minute. Redis keeps the same number as an absolute time (see redis-store.ts).
 */
export const windowMs = 60_000

/** Float slack so that exactly `limit` units in a minute are admitted. */
const epsilon = 1e-6

export type LimitKind = 'rpm' | 'tpm' | 'budget'

/** Milliseconds until full, before and after taking this request's units. */
export interface BucketDebt {
  before: number
  after: number
}

export interface RateState {
  limit: number
  remaining: number
  /** Milliseconds until the bucket is full again (OpenAI's `x-ratelimit-reset-*`). */
  resetMs: number
}

/** What one admission found, from either store. */
export interface AdmitResult {
  verdict: 'admitted' | LimitKind
  requests: BucketDebt
  tokens: BucketDebt
  /** Spent in the budget's current period, before this request. */
  spend: number
}

export function debtOf(units: number, limit: number): number {
  return (units * windowMs) / limit
}

export function overflows(debt: number): boolean {
  return debt > windowMs + epsilon
}

/** The order of checks both stores apply: budget, then requests, then tokens. */
export function decide(
  requests: BucketDebt | undefined,
  tokens: BucketDebt | undefined,
  spend: number,
  maxSpend: number | undefined,
): AdmitResult['verdict'] {
  if (maxSpend !== undefined && spend >= maxSpend) return 'budget'
  if (requests !== undefined && overflows(requests.after)) return 'rpm'
  if (tokens !== undefined && overflows(tokens.after)) return 'tpm'
  return 'admitted'
}

export function rateState(limit: number, debt: number): RateState {
  const remaining = Math.floor(((windowMs - debt) * limit) / windowMs + epsilon)
  return { limit, remaining: Math.max(0, remaining), resetMs: Math.max(0, debt) }
}
