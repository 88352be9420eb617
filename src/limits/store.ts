/** Where the counters live: memory for one process, Redis for many replicas. Same semantics. */
import type { BudgetPeriod } from './budget-period.ts'
import type { AdmitResult } from './rate-bucket.ts'

export interface AdmitInput {
  now: number
  rpm: number | undefined
  tpm: number | undefined
  /** Estimated tokens, taken from the tpm bucket on admission. */
  tokens: number
  budget: { maxSpend: number; period: BudgetPeriod } | undefined
}

export interface SettleInput {
  now: number
  tpm: number | undefined
  /** Real tokens minus the estimate: negative gives tokens back, positive takes more. */
  tokenDelta: number
  /** Real cost, added to the period's spend. */
  cost: number
  period: BudgetPeriod | undefined
}

/** One key's counters, built once per key. */
export interface KeyCounters {
  /** Checks every limit and, only when all pass, takes the request and its estimate: atomically. */
  admit(input: AdmitInput): Promise<AdmitResult>
  settle(input: SettleInput): Promise<void>
  /** Sets a period's starting spend unless it already has one (the first writer wins). */
  seedSpend(period: BudgetPeriod, spend: number, now: number): Promise<void>
}

export interface LimitStore {
  counters(keyId: string): KeyCounters
  close(): Promise<void>
}
