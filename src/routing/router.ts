/**
 * A gateway's routing, built once at start-up: every model's route and every saved config
 * compiled, the shared runtime (breakers, load statistics), and the reading of a request's own
 * routing headers: `x-switchyard-config` (or Portkey's `x-portkey-config`: inline JSON or a saved
 * config id), `x-portkey-virtual-key` / `x-portkey-provider` (a provider name) and the metadata
 * headers conditional routing reads.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { ClientKey } from '../auth/keys.ts'
import { type CachePolicy, cachePolicy } from '../cache/cache-key.ts'
import type { Config } from '../config/schema.ts'
import { GatewayError } from '../core/errors.ts'
import type { Provider } from '../upstream/call.ts'
import { type CompileOptions, compileRoute, type RouteNode, routeTargets } from './compile-route.ts'
import { formatRoutePath, routeConfigSchema } from './config.ts'
import { createRoutingRuntime, type RoutingRuntime, type RoutingSettings } from './execute.ts'

/** A compiled route and, when its config has `cache`, how its answers are cached. */
export interface ChosenRoute {
  node: RouteNode
  cache: CachePolicy | undefined
}

export interface Router {
  runtime: RoutingRuntime
  /** The compiled route of a catalog model. */
  modelRoute(modelId: string): ChosenRoute | undefined
  /**
   * The route a request chose with its headers, or undefined to use the model's. Throws 400 for
   * a broken config, 403 for a target the client may not use.
   */
  requestRoute(headers: IncomingHttpHeaders, key: ClientKey): ChosenRoute | undefined
}

export function createRouter(
  config: Config,
  providers: ReadonlyMap<string, Provider>,
  runtime: RoutingRuntime = createRoutingRuntime(routingSettings(config)),
): Router {
  const base = {
    providers,
    providerConfigs: config.providers,
    allowedCustomHosts: config.routing.allowed_custom_hosts,
  }
  const server: CompileOptions = { ...base, trust: 'server' }
  const client: CompileOptions = { ...base, trust: 'client' }
  const maxAge = config.cache.default_max_age
  const saved = new Map<string, ChosenRoute>()
  for (const [id, savedConfig] of Object.entries(config.configs)) {
    saved.set(id, {
      node: compileRoute(savedConfig, server, `configs.${id}`),
      cache: cachePolicy(savedConfig, `config ${id}`, maxAge),
    })
  }
  const models = new Map<string, ChosenRoute>()
  config.models.forEach((model, index) => {
    const route =
      typeof model.route === 'string'
        ? saved.get(model.route)
        : {
            node: compileRoute(model.route, server, `models[${index}].route`),
            cache: cachePolicy(model.route, `model ${model.id}`, maxAge),
          }
    if (route === undefined)
      throw new Error(`models[${index}].route: no saved config ${model.route}`)
    models.set(model.id, route)
  })

  return {
    runtime,
    modelRoute: (modelId) => models.get(modelId),
    requestRoute(headers, key) {
      const config = firstHeader(headers, 'x-switchyard-config', 'x-portkey-config')
      if (config !== undefined) {
        const configHeader = config.name
        const value = config.text.trim()
        const route = value.startsWith('{') ? inlineRoute(value, configHeader) : saved.get(value)
        if (route === undefined) {
          throw new GatewayError('invalid_config', `${configHeader}: no saved config "${value}"`)
        }
        checkModels(route.node, key, configHeader)
        return route
      }
      const provider = firstHeader(headers, 'x-portkey-virtual-key', 'x-portkey-provider')
      if (provider === undefined) return undefined
      return {
        node: compileRoute({ provider: provider.text.trim() }, client, provider.name),
        cache: undefined,
      }
    },
  }

  function inlineRoute(value: string, header: string): ChosenRoute {
    const parsed = parseInlineConfig(value, header)
    return {
      node: compileRoute(parsed, client, header),
      cache: cachePolicy(parsed, 'inline', maxAge),
    }
  }
}

export function routingSettings(config: Config): RoutingSettings {
  const { retry, circuit_breaker: breaker } = config.routing
  return {
    baseDelayMs: retry.base_delay_ms,
    maxDelayMs: retry.max_delay_ms,
    maxRetryAfterMs: retry.max_retry_after_ms,
    failureThreshold: breaker.failure_threshold,
    cooldownMs: breaker.cooldown_ms,
  }
}

function parseInlineConfig(value: string, header: string) {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new GatewayError('invalid_config', `${header}: not valid JSON`)
  }
  const result = routeConfigSchema.safeParse(parsed)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  let path = issue.path.filter((part): part is string | number => typeof part !== 'symbol')
  if (issue.code === 'unrecognized_keys' && issue.keys.length === 1)
    path = [...path, issue.keys[0]!]
  const where = formatRoutePath(path)
  throw new GatewayError('invalid_config', `${header}${where ? ` ${where}` : ''}: ${issue.message}`)
}

/** A client's config reaches only models its key may use (allow-lists match upstream names too). */
function checkModels(route: RouteNode, key: ClientKey, header: string): void {
  for (const target of routeTargets(route)) {
    if (target.model !== undefined && !key.allows(target.model)) {
      throw new GatewayError(
        'model_not_allowed',
        `${header}${target.path ? ` ${target.path}` : ''}: this API key may not use the model '${target.model}'`,
      )
    }
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  const text = Array.isArray(value) ? value[0] : value
  return text === undefined || text.trim() === '' ? undefined : text
}

/** Our header, else Portkey's (or another pair): the first one the request carries, by name. */
function firstHeader(
  headers: IncomingHttpHeaders,
  name: string,
  fallback: string,
): { name: string; text: string } | undefined {
  const text = headerValue(headers, name)
  if (text !== undefined) return { name, text }
  const other = headerValue(headers, fallback)
  return other === undefined ? undefined : { name: fallback, text: other }
}

/** The longest per-request timeout a header may ask for: an hour. */
const maxRequestTimeoutMs = 3_600_000

/**
 * `x-switchyard-request-timeout` (or Portkey's `x-portkey-request-timeout`): milliseconds each
 * upstream attempt of this request may take, over the route's `request_timeout`.
 */
export function readRequestTimeout(headers: IncomingHttpHeaders): number | undefined {
  const found = firstHeader(headers, 'x-switchyard-request-timeout', 'x-portkey-request-timeout')
  if (found === undefined) return undefined
  const { name: header, text } = found
  const milliseconds = Number(text.trim())
  if (!Number.isInteger(milliseconds) || milliseconds < 1 || milliseconds > maxRequestTimeoutMs) {
    throw new GatewayError(
      'invalid_request',
      `${header}: a whole number of milliseconds from 1 to ${maxRequestTimeoutMs}`,
    )
  }
  return milliseconds
}

/**
 * `x-switchyard-metadata` (or `x-portkey-metadata`): a JSON object of short string values, for
 * conditional routing and the usage log. Numbers and booleans are kept as their text.
 */
export function readMetadata(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const found = firstHeader(headers, 'x-switchyard-metadata', 'x-portkey-metadata')
  if (found === undefined) return undefined
  const { name: header, text } = found
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GatewayError('invalid_request', `${header}: not valid JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('invalid_request', `${header}: must be a JSON object`)
  }
  const metadata: Record<string, string> = {}
  const entries = Object.entries(parsed)
  if (entries.length > 64) throw new GatewayError('invalid_request', `${header}: at most 64 keys`)
  for (const [name, value] of entries) {
    if (typeof value === 'string') metadata[name] = value
    else if (typeof value === 'number' || typeof value === 'boolean') metadata[name] = String(value)
    else if (value !== null) {
      throw new GatewayError('invalid_request', `${header}: ${name} must be a string`)
    }
  }
  return metadata
}
