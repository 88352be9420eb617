/**
 * The routing config: where a model's requests go. One schema, used by a model's `route`, by the
 * saved configs under `configs:` and per request (`x-switchyard-config` / `x-portkey-config`).
 * It follows Portkey's config shape (`strategy`, `targets`, `weight`, `retry`, `override_params`,
 * `request_timeout`, `virtual_key`), so a Portkey user's config works; Portkey keys that have no
 * meaning here are refused with a message that says so, at their path.
 */
import { z } from 'zod'
import { conditionQuerySchema } from './condition-query.ts'

export const strategyModes = ['single', 'fallback', 'loadbalance', 'conditional'] as const
export type StrategyMode = (typeof strategyModes)[number]
export const balanceModes = ['weighted', 'least_busy', 'lowest_latency'] as const
export type BalanceMode = (typeof balanceModes)[number]

const statusCodes = z.array(z.number().int().min(100).max(599))

const retrySchema = z.strictObject({
  /** Retries after the first try (Portkey's meaning), at most 5. */
  attempts: z.number().int().min(0).max(5),
  on_status_codes: statusCodes.optional(),
  /** Wait what the upstream's `retry-after` says (default true). */
  use_retry_after_header: z.boolean().optional(),
})
export type RetryConfig = z.infer<typeof retrySchema>

/**
 * Portkey's `cache`: `simple` answers a request that matches an earlier one exactly from the
 * cache, for `max_age` seconds (default: the server's `cache.default_max_age`). Only at the top
 * of a config: it applies to the request, whichever target answers it.
 */
const cacheSchema = z.strictObject({
  mode: z.enum(['simple', 'semantic']).refine((mode) => mode === 'simple', {
    message: 'only mode simple (exact match) is supported; semantic caching is not',
  }),
  max_age: z.number().int().positive().optional(),
})
export type CacheConfig = z.infer<typeof cacheSchema>

/** A Portkey key with no meaning in a Switchyard route: refused with the reason. */
function unsupported(reason: string) {
  return z
    .unknown()
    .refine((value) => value === undefined, { message: reason })
    .optional()
}

const strategySchema = z.strictObject({
  mode: z.enum(strategyModes),
  /** Fallback only: the statuses that move on to the next target (default: any failure). */
  on_status_codes: statusCodes.optional(),
  /** Loadbalance only: how the target is picked (default `weighted`). */
  balance: z.enum(balanceModes).optional(),
  /** Conditional only: the first matching query's `then` names the target. */
  conditions: z
    // biome-ignore lint/suspicious/noThenProperty: Portkey's key, kept so Portkey configs work as written
    .array(z.strictObject({ query: conditionQuerySchema, then: z.string().min(1) }))
    .optional(),
  /** Conditional only: the target used when no condition matches. */
  default: z.string().min(1).optional(),
  cb_config: unsupported(
    'circuit breaking is set for the whole server, under routing.circuit_breaker',
  ),
})
export type StrategyConfig = z.infer<typeof strategySchema>

export interface RouteConfig {
  name?: string | undefined
  /** A provider defined in the server's `providers:` (a leading `@` is accepted, as in Portkey). */
  provider?: string | undefined
  /** Portkey's name for a provider credential: here, the name of a defined provider. */
  virtual_key?: string | undefined
  /** The model sent upstream; shorthand for `override_params.model`. */
  model?: string | undefined
  weight?: number | undefined
  retry?: RetryConfig | undefined
  /** Milliseconds per attempt, until the response (unstreamed) or its first chunk (streamed). */
  request_timeout?: number | undefined
  override_params?: Record<string, unknown> | undefined
  /** A base URL replacing the provider's own; per request only when the operator allows the host. */
  custom_host?: string | undefined
  /** A provider key replacing the provider's own; per request only with an allowed custom_host. */
  api_key?: string | undefined
  strategy?: StrategyConfig | undefined
  targets?: RouteConfig[] | undefined
  cache?: CacheConfig | undefined
  forward_headers?: unknown
  before_request_hooks?: unknown
  after_request_hooks?: unknown
  input_guardrails?: unknown
  output_guardrails?: unknown
  on_status_codes?: unknown
}

export const routeConfigSchema: z.ZodType<RouteConfig> = z
  .strictObject({
    name: z.string().min(1).optional(),
    provider: z.string().min(1).optional(),
    virtual_key: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    weight: z.number().nonnegative().optional(),
    retry: retrySchema.optional(),
    request_timeout: z.number().int().positive().optional(),
    override_params: z.record(z.string(), z.unknown()).optional(),
    custom_host: z.url({ protocol: /^https?$/ }).optional(),
    api_key: z.string().min(1).optional(),
    strategy: strategySchema.optional(),
    targets: z.array(z.lazy(() => routeConfigSchema)).optional(),
    cache: cacheSchema.optional(),
    forward_headers: unsupported('Switchyard never forwards client headers upstream'),
    before_request_hooks: unsupported('hooks are not supported'),
    after_request_hooks: unsupported('hooks are not supported'),
    input_guardrails: unsupported('guardrails are not supported'),
    output_guardrails: unsupported('guardrails are not supported'),
    on_status_codes: unsupported(
      'use strategy.on_status_codes (fallback) or retry.on_status_codes',
    ),
  })
  .superRefine(checkShape)

function checkShape(node: RouteConfig, context: z.RefinementCtx): void {
  const problem = (message: string, path: (string | number)[] = []) =>
    context.addIssue({ code: 'custom', message, path })
  const mode = node.strategy?.mode
  if (node.targets === undefined) {
    if (node.provider === undefined && node.virtual_key === undefined) {
      problem('a target needs a provider (or virtual_key), or a strategy with targets')
    }
    if (mode !== undefined && mode !== 'single') {
      problem(`mode ${mode} needs targets`, ['strategy', 'mode'])
    }
    return
  }
  for (const key of ['provider', 'virtual_key', 'model', 'custom_host', 'api_key'] as const) {
    if (node[key] !== undefined) problem(`a config with targets cannot also set ${key}`, [key])
  }
  if (node.strategy === undefined) problem('a config with targets needs strategy.mode', ['targets'])
  node.targets.forEach((target, index) => {
    if (target.cache !== undefined) {
      problem('cache applies to the whole config: set it at the top level', [
        'targets',
        index,
        'cache',
      ])
    }
  })
  if (node.targets.length === 0) problem('needs at least one target', ['targets'])
  const strategy = node.strategy
  if (strategy === undefined) return
  if (strategy.on_status_codes !== undefined && mode !== 'fallback') {
    problem('on_status_codes applies to mode fallback only', ['strategy', 'on_status_codes'])
  }
  if (strategy.balance !== undefined && mode !== 'loadbalance') {
    problem('balance applies to mode loadbalance only', ['strategy', 'balance'])
  }
  if (mode === 'loadbalance' && !node.targets.some((target) => (target.weight ?? 1) > 0)) {
    problem('at least one target needs a weight above 0', ['targets'])
  }
  if (mode !== 'conditional') {
    if (strategy.conditions !== undefined)
      problem('conditions apply to mode conditional only', ['strategy', 'conditions'])
    if (strategy.default !== undefined)
      problem('default applies to mode conditional only', ['strategy', 'default'])
    return
  }
  const names = new Set<string>()
  node.targets.forEach((target, index) => {
    if (target.name === undefined) return
    if (names.has(target.name))
      problem(`duplicate target name "${target.name}"`, ['targets', index, 'name'])
    names.add(target.name)
  })
  const known = [...names].join(', ') || 'none'
  if (strategy.conditions === undefined || strategy.conditions.length === 0) {
    problem('mode conditional needs conditions', ['strategy', 'conditions'])
  }
  strategy.conditions?.forEach((condition, index) => {
    if (!names.has(condition.then)) {
      problem(`no target named "${condition.then}"; named targets: ${known}`, [
        'strategy',
        'conditions',
        index,
        'then',
      ])
    }
  })
  if (strategy.default !== undefined && !names.has(strategy.default)) {
    problem(`no target named "${strategy.default}"; named targets: ${known}`, [
      'strategy',
      'default',
    ])
  }
}

/** A model's `route`: a config, or the id of a saved config under `configs:`. */
export const modelRouteSchema = z.unknown().transform((value, context): RouteConfig | string => {
  if (typeof value === 'string') {
    if (value.length > 0) return value
    context.addIssue({ code: 'custom', message: 'a saved config id cannot be empty' })
    return z.NEVER
  }
  const result = routeConfigSchema.safeParse(value)
  if (result.success) return result.data
  for (const issue of result.error.issues) {
    const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol')
    // Reported at the unknown key itself, as the config loader does for every other section.
    if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) path.push(issue.keys[0]!)
    context.addIssue({ code: 'custom', message: issue.message, path })
  }
  return z.NEVER
})
export type ModelRoute = z.infer<typeof modelRouteSchema>

/** The provider a target names: `virtual_key` wins (it is the credential Portkey routes by). */
export function providerNameOf(target: RouteConfig): string | undefined {
  const name = target.virtual_key ?? target.provider
  return name?.startsWith('@') ? name.slice(1) : name
}

/** Every leaf target of a config with its path, for checks that walk the whole tree. */
export function* leafTargets(
  config: RouteConfig,
  path: (string | number)[] = [],
): Generator<{ target: RouteConfig; path: (string | number)[] }> {
  if (config.targets === undefined) {
    yield { target: config, path }
    return
  }
  for (const [index, target] of config.targets.entries()) {
    yield* leafTargets(target, [...path, 'targets', index])
  }
}

/** Dotted path as the config file and error messages show it: `targets[0].targets[1]`. */
export function formatRoutePath(path: readonly (string | number)[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`,
    )
    .join('')
}

/** A model's default `owned_by`: the provider of its first target. */
export function routeOwner(route: ModelRoute): string {
  if (typeof route === 'string') return 'switchyard'
  const first = leafTargets(route).next()
  return (first.done ? undefined : providerNameOf(first.value.target)) ?? 'switchyard'
}
