/**
 * Turns a validated routing config into the tree the executor walks: providers resolved,
 * `retry`, `request_timeout` and `override_params` inherited from parents (a child's own win),
 * conditions compiled, each node labelled with its path. Server configs are compiled once at
 * start-up; a per-request config once per request, with the client's restrictions applied.
 */
import { GatewayError } from '../core/errors.ts'
import { compileGlobs } from '../core/glob.ts'
import type { ProviderConfig } from '../providers/registry.ts'
import { providerDefinition } from '../providers/registry.ts'
import type { Provider } from '../upstream/call.ts'
import { defaultRetryStatusCodes } from './attempt-failure.ts'
import { type CompiledQuery, compileQuery } from './condition-query.ts'
import {
  type BalanceMode,
  formatRoutePath,
  providerNameOf,
  type RouteConfig,
  type StrategyMode,
} from './config.ts'

export interface RetryPolicy {
  /** Retries after the first try. */
  attempts: number
  statusCodes: readonly number[]
  useRetryAfter: boolean
}

export interface RouteTarget {
  type: 'target'
  /** `targets[0].targets[1]`; empty for a route that is one target. */
  path: string
  weight: number
  name: string | undefined
  provider: Provider
  /** The upstream model; undefined sends the catalog model id the client asked for. */
  model: string | undefined
  /** Merged into the request body for this target (never `model`: see `model`). */
  overrideParams: Readonly<Record<string, unknown>> | undefined
  retry: RetryPolicy
  requestTimeoutMs: number | undefined
  /** Breaker and load statistics key prefix: the provider, and the custom host if any. */
  statsKey: string
  /** The whole key (prefix and upstream model) when the model is fixed: built once, here. */
  modelStatsKey: string | undefined
}

export interface RouteGroup {
  type: 'group'
  path: string
  weight: number
  name: string | undefined
  mode: StrategyMode
  balance: BalanceMode
  /** Fallback: the statuses that move on; undefined moves on after any failure. */
  fallbackStatusCodes: readonly number[] | undefined
  conditions: { matches: CompiledQuery; target: RouteNode }[]
  defaultTarget: RouteNode | undefined
  targets: RouteNode[]
}

export type RouteNode = RouteTarget | RouteGroup

export interface CompileOptions {
  providers: ReadonlyMap<string, Provider>
  providerConfigs: Readonly<Record<string, ProviderConfig>>
  /**
   * `server`: written by the operator, trusted. `client`: from a request header; a custom host
   * must be on the allow-list and an inline key needs such a host.
   */
  trust: 'server' | 'client'
  allowedCustomHosts: readonly string[]
}

interface Inherited {
  retry: RetryPolicy
  requestTimeoutMs: number | undefined
  overrideParams: Record<string, unknown> | undefined
}

const noRetry: RetryPolicy = {
  attempts: 0,
  statusCodes: defaultRetryStatusCodes,
  useRetryAfter: true,
}

/** Throws GatewayError `invalid_config` (400) or `forbidden` (403), naming the problem's path. */
export function compileRoute(
  config: RouteConfig,
  options: CompileOptions,
  label: string,
): RouteNode {
  const hostAllowed = compileGlobs(options.allowedCustomHosts)
  const fail = (
    code: 'invalid_config' | 'forbidden',
    path: (string | number)[],
    message: string,
  ): never => {
    const where = formatRoutePath(path)
    throw new GatewayError(code, `${label}${where === '' ? '' : ` ${where}`}: ${message}`)
  }

  function node(current: RouteConfig, path: (string | number)[], parent: Inherited): RouteNode {
    const inherited: Inherited = {
      retry:
        current.retry === undefined
          ? parent.retry
          : {
              attempts: current.retry.attempts,
              statusCodes: current.retry.on_status_codes ?? defaultRetryStatusCodes,
              useRetryAfter: current.retry.use_retry_after_header ?? true,
            },
      requestTimeoutMs: current.request_timeout ?? parent.requestTimeoutMs,
      overrideParams:
        current.override_params === undefined
          ? parent.overrideParams
          : { ...parent.overrideParams, ...current.override_params },
    }
    const common = {
      path: formatRoutePath(path),
      weight: current.weight ?? 1,
      name: current.name,
    }
    if (current.targets === undefined) return target(current, path, inherited, common)
    const targets = current.targets.map((child, index) =>
      node(child, [...path, 'targets', index], inherited),
    )
    const strategy = current.strategy
    const byName = (name: string) => targets.find((child) => child.name === name)!
    return {
      type: 'group',
      ...common,
      mode: strategy?.mode ?? 'fallback',
      balance: strategy?.balance ?? 'weighted',
      fallbackStatusCodes: strategy?.on_status_codes,
      conditions: (strategy?.conditions ?? []).map((condition) => ({
        matches: compileQuery(condition.query),
        target: byName(condition.then),
      })),
      defaultTarget: strategy?.default === undefined ? undefined : byName(strategy.default),
      targets,
    }
  }

  function target(
    current: RouteConfig,
    path: (string | number)[],
    inherited: Inherited,
    common: { path: string; weight: number; name: string | undefined },
  ): RouteTarget {
    const name = providerNameOf(current)!
    const configured = options.providers.get(name)
    if (configured === undefined) {
      const defined = [...options.providers.keys()].join(', ') || 'none'
      fail(
        'invalid_config',
        [...path, current.virtual_key ? 'virtual_key' : 'provider'],
        `unknown provider "${name}"; defined: ${defined}`,
      )
    }
    let provider = configured!
    let statsKey = name
    if (current.custom_host !== undefined || current.api_key !== undefined) {
      provider = customProvider(current, path, provider)
      statsKey = `${name}@${current.custom_host ?? ''}`
    }
    const { model: overrideModel, ...overrideParams } = inherited.overrideParams ?? {}
    const model = current.model ?? (typeof overrideModel === 'string' ? overrideModel : undefined)
    return {
      type: 'target',
      ...common,
      provider,
      model,
      overrideParams: Object.keys(overrideParams).length > 0 ? overrideParams : undefined,
      retry: inherited.retry,
      requestTimeoutMs: inherited.requestTimeoutMs,
      statsKey,
      modelStatsKey: model === undefined ? undefined : targetStatsKey(statsKey, model),
    }
  }

  /** A provider with its base URL or key replaced; it shares the provider's connection pools. */
  function customProvider(
    current: RouteConfig,
    path: (string | number)[],
    provider: Provider,
  ): Provider {
    if (options.trust === 'client') {
      if (current.custom_host === undefined) {
        fail(
          'forbidden',
          [...path, 'api_key'],
          'an api_key is accepted only together with an allowed custom_host',
        )
      }
      const url = new URL(current.custom_host!)
      if (!hostAllowed(url.host) && !hostAllowed(url.hostname)) {
        fail(
          'forbidden',
          [...path, 'custom_host'],
          `the host ${url.host} is not in this gateway's routing.allowed_custom_hosts`,
        )
      }
    }
    const base = options.providerConfigs[provider.name] as Record<string, unknown> | undefined
    const definition = providerDefinition(provider.kind)
    const parsed = definition.configSchema.safeParse({
      ...base,
      ...(current.custom_host === undefined ? {} : { base_url: current.custom_host }),
      ...(current.api_key === undefined ? {} : { api_key: current.api_key }),
    })
    if (!parsed.success) {
      fail(
        'invalid_config',
        [...path, current.custom_host === undefined ? 'api_key' : 'custom_host'],
        `provider "${provider.name}" (kind ${provider.kind}) takes no custom host or key`,
      )
    }
    return { ...provider, adapter: definition.createAdapter(parsed.data as { kind: string }) }
  }

  return node(config, [], {
    retry: noRetry,
    requestTimeoutMs: undefined,
    overrideParams: undefined,
  })
}

/** Every target of a compiled route, for checks over the whole tree. */
export function* routeTargets(node: RouteNode): Generator<RouteTarget> {
  if (node.type === 'target') {
    yield node
    return
  }
  for (const child of node.targets) yield* routeTargets(child)
}

/** The breaker and statistics key of one target and upstream model. */
export function targetStatsKey(statsKey: string, upstreamModel: string): string {
  return `${statsKey}\u0000${upstreamModel}`
}
