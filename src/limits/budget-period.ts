/** Budget periods in UTC: a day starts at 00:00Z, a month on its first day at 00:00Z. */
import type { KeyBudget } from '../auth/key-shape.ts'

export interface BudgetPeriod {
  /** Epoch milliseconds, inclusive. */
  start: number
  /** Epoch milliseconds, exclusive. */
  end: number
  /** `2025-06-01`, for store keys. */
  label: string
}

export function budgetPeriod(period: KeyBudget['period'], now: number): BudgetPeriod {
  const date = new Date(now)
  const year = date.getUTCFullYear()
  const month = date.getUTCMonth()
  const start =
    period === 'day' ? Date.UTC(year, month, date.getUTCDate()) : Date.UTC(year, month, 1)
  const end =
    period === 'day' ? Date.UTC(year, month, date.getUTCDate() + 1) : Date.UTC(year, month + 1, 1)
  return { start, end, label: new Date(start).toISOString().slice(0, 10) }
}
