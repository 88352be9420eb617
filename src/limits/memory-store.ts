/**
 * Counters in this process's memory: exact for one process. Each key's state is a few numbers,
 * updated synchronously, so an admission is atomic without locks.
 */
import type { BudgetPeriod } from './budget-period.ts'
import { type BucketDebt, debtOf, decide } from './rate-bucket.ts'
import type { AdmitInput, KeyCounters, LimitStore, SettleInput } from './store.ts'

interface KeyState {
  /** Epoch ms at which each bucket is full again (at or before now: full). */
  requestsFullAt: number
  tokensFullAt: number
  /** Start of the period `spend` belongs to; NaN before any. */
  spendPeriod: number
  spend: number
}

export function createMemoryStore(): LimitStore {
  const states = new Map<string, KeyState>()
  return {
    counters(keyId) {
      let state = states.get(keyId)
      if (state === undefined) {
        state = { requestsFullAt: 0, tokensFullAt: 0, spendPeriod: Number.NaN, spend: 0 }
        states.set(keyId, state)
      }
      return memoryCounters(state)
    },
    close: async () => {},
  }
}

function memoryCounters(state: KeyState): KeyCounters {
  const spendIn = (period: BudgetPeriod) => (state.spendPeriod === period.start ? state.spend : 0)
  return {
    async admit(input: AdmitInput) {
      const { now } = input
      const requests = take(state.requestsFullAt, now, input.rpm, 1)
      const tokens = take(state.tokensFullAt, now, input.tpm, input.tokens)
      const spend = input.budget === undefined ? 0 : spendIn(input.budget.period)
      const verdict = decide(requests, tokens, spend, input.budget?.maxSpend)
      if (verdict === 'admitted') {
        if (requests !== undefined) state.requestsFullAt = now + requests.after
        if (tokens !== undefined) state.tokensFullAt = now + tokens.after
      }
      return { verdict, requests: requests ?? none, tokens: tokens ?? none, spend }
    },
    async settle(input: SettleInput) {
      if (input.tpm !== undefined && input.tokenDelta !== 0) {
        const fullAt = Math.max(state.tokensFullAt, input.now)
        state.tokensFullAt = fullAt + debtOf(input.tokenDelta, input.tpm)
      }
      if (input.period !== undefined && input.cost > 0) {
        state.spend = spendIn(input.period) + input.cost
        state.spendPeriod = input.period.start
      }
    },
    async seedSpend(period, spend) {
      if (state.spendPeriod === period.start) return
      state.spendPeriod = period.start
      state.spend = spend
    },
  }
}

const none: BucketDebt = { before: 0, after: 0 }

function take(
  fullAt: number,
  now: number,
  limit: number | undefined,
  units: number,
): BucketDebt | undefined {
  if (limit === undefined) return undefined
  const before = Math.max(0, fullAt - now)
  return { before, after: before + debtOf(units, limit) }
}
