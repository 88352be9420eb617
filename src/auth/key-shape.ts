/**
 * The one key shape, used by the config file (plus `key`), the admin API and the CLI:
 * `{ name, models, limits: { rpm, tpm }, budget: { max_spend, period }, expires_at, labels }`.
 */
import { z } from 'zod'

export const keyLimitsSchema = z.strictObject({
  /** Requests per minute. */
  rpm: z.number().int().positive().optional(),
  /** Tokens (prompt + completion) per minute. */
  tpm: z.number().int().positive().optional(),
})

export const keyBudgetSchema = z.strictObject({
  /** In the currency of the models' `costs`. */
  max_spend: z.number().positive(),
  period: z.enum(['day', 'month']),
})

export const keyShapeFields = {
  name: z.string().min(1).max(200),
  /** Allow-list of model ids (glob patterns); aliases resolve before matching. */
  models: z.array(z.string().min(1)).default(['*']),
  limits: keyLimitsSchema.optional(),
  budget: keyBudgetSchema.optional(),
  /** ISO 8601 date-time after which the key is refused. */
  expires_at: z.iso.datetime({ offset: true }).nullish(),
  labels: z.record(z.string(), z.string()).optional(),
}

export type KeyLimits = z.infer<typeof keyLimitsSchema>
export type KeyBudget = z.infer<typeof keyBudgetSchema>
