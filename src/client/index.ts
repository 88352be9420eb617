/**
 * `switchyard/client`: the official `openai` client, plus Switchyard's per-client and per-call
 * routing options: a routing `config` (inline or a saved config id), `metadata` for conditional
 * routing and the usage log, and a `traceId` that becomes the request id.
 *
 *   const client = new Switchyard({ baseURL, apiKey, config: 'resilient-small' })
 *   await client.withOptions({ metadata: { tier: 'pro' } }).chat.completions.create(…)
 *   await client.chat.completions.create(body, routingOptions({ config: { … } }))
 */
import OpenAI, { type ClientOptions } from 'openai'
import type { RouteConfig } from '../routing/config.ts'

export type { RouteConfig }

export interface RoutingOptions {
  /** A routing config, or the id of a config saved on the gateway. */
  config?: RouteConfig | string | undefined
  metadata?: Record<string, string> | undefined
  traceId?: string | undefined
}

export type SwitchyardClientOptions = ClientOptions & RoutingOptions

/** The headers that carry routing options: for any HTTP client, or the `openai` SDK's `defaultHeaders`. */
export function routingHeaders(options: RoutingOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  if (options.config !== undefined) {
    headers['x-switchyard-config'] =
      typeof options.config === 'string' ? options.config : JSON.stringify(options.config)
  }
  if (options.metadata !== undefined) {
    headers['x-switchyard-metadata'] = JSON.stringify(options.metadata)
  }
  if (options.traceId !== undefined) headers['x-request-id'] = options.traceId
  return headers
}

/** Per-call request options: `client.chat.completions.create(body, routingOptions({ … }))`. */
export function routingOptions(options: RoutingOptions): { headers: Record<string, string> } {
  return { headers: routingHeaders(options) }
}

export class Switchyard extends OpenAI {
  readonly #defaultHeaders: Record<string, string>

  constructor(options: SwitchyardClientOptions = {}) {
    const { config, metadata, traceId, ...clientOptions } = options
    const defaultHeaders = {
      ...(clientOptions.defaultHeaders as Record<string, string> | undefined),
      ...routingHeaders({ config, metadata, traceId }),
    }
    super({ ...clientOptions, defaultHeaders })
    this.#defaultHeaders = defaultHeaders
  }

  /** A new client with these options on top of this one's (routing options included). */
  override withOptions(options: Partial<SwitchyardClientOptions>): this {
    const { config, metadata, traceId, ...clientOptions } = options
    return super.withOptions({
      ...clientOptions,
      defaultHeaders: {
        ...this.#defaultHeaders,
        ...(clientOptions.defaultHeaders as Record<string, string> | undefined),
        ...routingHeaders({ config, metadata, traceId }),
      },
    })
  }
}
