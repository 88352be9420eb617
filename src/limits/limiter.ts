/**
 * Per-key limits: requests per minute, tokens per minute and a spend budget per UTC day or
 * month. `admit` runs before the upstream call: it charges one request and the token estimate
 * (estimate-tokens.ts) and refuses with a 429 when a limit is reached. When the request ends
 * the limiter, as a request recorder, settles the difference between the estimate and the real
 * tokens and adds the real cost to the budget; a failed request keeps only its request.
 * A key with no limits and no budget costs one WeakMap lookup.
 */
import type { KeyBudget } from '../auth/key-shape.ts'
import type { ClientKey } from '../auth/keys.ts'
import type { ChatRequest } from '../core/chat.ts'
import { GatewayError } from '../core/errors.ts'
import type { RequestRecord, RequestRecorder } from '../core/request-record.ts'
import { type BudgetPeriod, budgetPeriod } from './budget-period.ts'
import { estimateTokens } from './estimate-tokens.ts'
import { limitError } from './limit-errors.ts'
import { type AdmitResult, type LimitKind, rateState } from './rate-bucket.ts'
import { rateLimitHeaders } from './rate-limit-headers.ts'
import type { KeyCounters, LimitStore } from './store.ts'

/** A key's spend so far in a period, from the usage log; called once per key and period. */
export type SpendSeed = (keyId: string, periodStart: Date) => Promise<number>

export interface LimiterOptions {
  store: LimitStore
  /** What a store failure means: admit without limits (`open`) or refuse with 503 (`closed`). */
  failure: 'open' | 'closed'
  now?: (() => number) | undefined
  logger?: { warn(details: object, message: string): void } | undefined
  seed?: SpendSeed | undefined
  onRejected?: ((kind: LimitKind, record: RequestRecord) => void) | undefined
}

export interface Admission {
  /** The key's rate-limit state, for the response. */
  headers: Record<string, string>
}

export interface Limiter extends RequestRecorder {
  /**
   * Undefined when the key has no limits (or the store failed open); throws the 429. The headers
   * go into `responseHeaders` when given: a response's own object, with no copy to merge.
   */
  admit(
    key: ClientKey,
    request: ChatRequest,
    record: RequestRecord,
    responseHeaders?: Record<string, string>,
  ): Promise<Admission | undefined>
  close(): Promise<void>
}

interface Plan {
  id: string
  name: string
  rpm: number | undefined
  tpm: number | undefined
  budget: KeyBudget | undefined
  counters: KeyCounters
  seeded: number | undefined
  seeding: { start: number; done: Promise<void> } | undefined
}

interface Pending {
  plan: Plan
  tokens: number
  period: BudgetPeriod | undefined
}

/** At most one warning per this many milliseconds while the store keeps failing. */
const warnEveryMs = 10_000

export function createLimiter(options: LimiterOptions): Limiter {
  const { store, seed, onRejected } = options
  const now = options.now ?? Date.now
  const plans = new WeakMap<ClientKey, Plan | null>()
  const pending = new WeakMap<RequestRecord, Pending>()
  let lastWarningAt = Number.NEGATIVE_INFINITY
  let suppressed = 0

  function warn(error: unknown, message: string): void {
    const at = now()
    if (at - lastWarningAt < warnEveryMs) {
      suppressed++
      return
    }
    options.logger?.warn({ err: error, suppressed }, message)
    lastWarningAt = at
    suppressed = 0
  }

  function planFor(key: ClientKey): Plan | undefined {
    let plan = plans.get(key)
    if (plan === undefined) {
      const { rpm, tpm } = key.limits ?? {}
      plan =
        rpm === undefined && tpm === undefined && key.budget === undefined
          ? null
          : {
              id: key.id,
              name: key.name,
              rpm,
              tpm,
              budget: key.budget,
              counters: store.counters(key.id),
              seeded: undefined,
              seeding: undefined,
            }
      plans.set(key, plan)
    }
    return plan ?? undefined
  }

  async function seedOnce(plan: Plan, period: BudgetPeriod, at: number): Promise<void> {
    if (seed === undefined || plan.seeded === period.start) return
    if (plan.seeding?.start !== period.start) {
      const done = (async () => {
        try {
          const spend = await seed(plan.id, new Date(period.start))
          await plan.counters.seedSpend(period, spend, at)
          plan.seeded = period.start
        } catch (error) {
          // The budget then counts from what the store already has; the next request retries.
          warn(error, 'seeding a budget from the usage log failed')
        } finally {
          plan.seeding = undefined
        }
      })()
      plan.seeding = { start: period.start, done }
    }
    await plan.seeding?.done
  }

  return {
    async admit(key, request, record, responseHeaders) {
      const plan = planFor(key)
      if (plan === undefined) return undefined
      const at = now()
      const period = plan.budget && budgetPeriod(plan.budget.period, at)
      const tokens = plan.tpm === undefined ? 0 : estimateTokens(request)
      let result: AdmitResult
      try {
        if (period !== undefined) await seedOnce(plan, period, at)
        result = await plan.counters.admit({
          now: at,
          rpm: plan.rpm,
          tpm: plan.tpm,
          tokens,
          budget: plan.budget && period && { maxSpend: plan.budget.max_spend, period },
        })
      } catch (error) {
        warn(
          error,
          `rate-limit store failed; ${options.failure === 'open' ? 'admitting' : 'refusing'} requests of limited keys`,
        )
        if (options.failure === 'open') return undefined
        throw new GatewayError(
          'limits_unavailable',
          'The rate limits of this API key cannot be checked right now; retry shortly',
          { retryAfter: 1, cause: error },
        )
      }
      const admitted = result.verdict === 'admitted'
      const requests = admitted ? result.requests.after : result.requests.before
      const tokensDebt = admitted ? result.tokens.after : result.tokens.before
      const headers = rateLimitHeaders(
        plan.rpm === undefined ? undefined : rateState(plan.rpm, requests),
        plan.tpm === undefined ? undefined : rateState(plan.tpm, tokensDebt),
        // A refusal's headers travel with its error, on their own.
        admitted ? responseHeaders : undefined,
      )
      if (result.verdict !== 'admitted') {
        onRejected?.(result.verdict, record)
        throw limitError(
          { ...plan, maxSpend: plan.budget?.max_spend, period },
          result,
          tokens,
          headers,
          at,
        )
      }
      pending.set(record, { plan, tokens, period })
      return { headers }
    },

    record(record) {
      const entry = pending.get(record)
      if (entry === undefined) return
      pending.delete(record)
      const { plan, period } = entry
      const used = record.promptTokens + record.completionTokens
      const tokenDelta = plan.tpm === undefined ? 0 : used - entry.tokens
      const cost = period === undefined ? 0 : record.cost
      if (tokenDelta === 0 && !(cost > 0)) return
      plan.counters
        .settle({ now: now(), tpm: plan.tpm, tokenDelta, cost, period })
        .catch((error: unknown) => warn(error, 'settling rate limits failed'))
    },

    close: () => store.close(),
  }
}
