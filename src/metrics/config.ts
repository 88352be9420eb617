/** `server.metrics`: the Prometheus endpoint. */
import { z } from 'zod'

export const metricsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    path: z
      .string()
      .regex(/^\/[^\s?#]*$/, 'a path such as /metrics')
      .default('/metrics'),
    /** Ask for a client API key (`Authorization: Bearer`) on the metrics path. */
    require_key: z.boolean().default(false),
  })
  .prefault({})

export type MetricsConfig = z.infer<typeof metricsConfigSchema>
