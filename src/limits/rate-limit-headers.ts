/**
 * OpenAI's rate-limit headers, for the limits a key has: `x-ratelimit-limit-requests: 60`,
 * `x-ratelimit-remaining-requests: 59`, `x-ratelimit-reset-requests: 1s` (time until the bucket
 * is full again) and the `-tokens` equivalents.
 */
import { formatDuration } from './format-duration.ts'
import type { RateState } from './rate-bucket.ts'

/** Writes them into `headers` (a response's own, say) and returns it. */
export function rateLimitHeaders(
  requests: RateState | undefined,
  tokens: RateState | undefined,
  headers: Record<string, string> = {},
): Record<string, string> {
  if (requests !== undefined) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit)
    headers['x-ratelimit-remaining-requests'] = String(requests.remaining)
    headers['x-ratelimit-reset-requests'] = formatDuration(requests.resetMs)
  }
  if (tokens !== undefined) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit)
    headers['x-ratelimit-remaining-tokens'] = String(tokens.remaining)
    headers['x-ratelimit-reset-tokens'] = formatDuration(tokens.resetMs)
  }
  return headers
}
