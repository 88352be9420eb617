/**
 * The routing config: where a model's requests go. Today a single target; the routing issue grows
 * this same type into a tree (fallback, load balancing, conditional), used by a model's `route`,
 * by saved configs and per request.
 */
import { z } from 'zod'

export const targetSchema = z.strictObject({
  provider: z.string().min(1),
  /** The model name sent upstream; defaults to the catalog model's id. */
  model: z.string().min(1).optional(),
})

export const routeConfigSchema = targetSchema
export type RouteConfig = z.infer<typeof routeConfigSchema>
