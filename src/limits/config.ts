/** The `limits` config section: how per-key limits behave when their shared store fails. */
import { z } from 'zod'

export const limitsConfigSchema = z
  .strictObject({
    /**
     * With `redis` set and Redis unreachable or slow: `open` admits the request without limits
     * (and logs a warning), `closed` refuses it with 503. Memory counters never fail.
     */
    redis_failure: z.enum(['open', 'closed']).default('open'),
    /** Longest wait for Redis on a request, in milliseconds, before `redis_failure` applies. */
    redis_timeout_ms: z.number().int().positive().default(250),
    /** Prefix of every Redis key the limiter writes, so one Redis can serve several gateways. */
    redis_prefix: z.string().default('switchyard:limits:'),
  })
  .prefault({})

export type LimitsConfig = z.infer<typeof limitsConfigSchema>
