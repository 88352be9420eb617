/**
 * The 429s a key's limits produce, worded like OpenAI's. `x-should-retry: false` tells the
 * OpenAI SDKs not to retry what cannot succeed soon (an exhausted budget, a request larger than
 * the key's tokens per minute); `retry-after-ms` gives them the exact wait otherwise.
 */
import { GatewayError } from '../core/errors.ts'
import type { BudgetPeriod } from './budget-period.ts'
import { formatDuration } from './format-duration.ts'
import { type AdmitResult, overflows, windowMs } from './rate-bucket.ts'

export interface RejectedKey {
  name: string
  rpm: number | undefined
  tpm: number | undefined
  maxSpend: number | undefined
  period: BudgetPeriod | undefined
}

export function limitError(
  key: RejectedKey,
  result: AdmitResult,
  estimatedTokens: number,
  headers: Record<string, string>,
  now: number,
): GatewayError {
  if (result.verdict === 'budget') {
    const period = key.period!
    const name = period.end - period.start > 86_400_000 ? 'monthly' : 'daily'
    return new GatewayError(
      'insufficient_quota',
      `This API key has used its ${name} budget (spent ${round(result.spend)} of ${key.maxSpend}); it renews at ${new Date(period.end).toISOString()}.`,
      {
        retryAfter: Math.max(1, (period.end - now) / 1000),
        headers: { ...headers, 'x-should-retry': 'false' },
      },
    )
  }
  const tokens = result.verdict === 'tpm'
  const debt = tokens ? result.tokens : result.requests
  const what = tokens ? 'tokens per min (TPM)' : 'requests per min (RPM)'
  const limit = tokens ? key.tpm : key.rpm
  if (tokens && overflows(debt.after - debt.before)) {
    return new GatewayError(
      'rate_limit_exceeded',
      `Request too large for ${what} on API key '${key.name}': Limit ${limit}, Requested ${estimatedTokens} (estimated from the messages and max_tokens). Lower max_tokens or shorten the messages.`,
      { headers: { ...headers, 'x-should-retry': 'false' } },
    )
  }
  const waitMs = Math.max(1, debt.after - windowMs)
  const requested = tokens ? `, Requested ${estimatedTokens} (estimated)` : ''
  return new GatewayError(
    'rate_limit_exceeded',
    `Rate limit reached for ${what} on API key '${key.name}': Limit ${limit}${requested}. Please try again in ${formatDuration(waitMs)}.`,
    {
      retryAfter: waitMs / 1000,
      headers: { ...headers, 'retry-after-ms': String(Math.ceil(waitMs)) },
    },
  )
}

function round(spend: number): number {
  return Math.round(spend * 1e6) / 1e6
}
