/**
 * `kind: anthropic`: Claude through the native Messages API (`POST /v1/messages`), translated to
 * and from the OpenAI chat API so an OpenAI client gets the same shapes as from GPT models.
 */
import { z } from 'zod'
import { createTransportFor, httpProviderFields, splitBaseUrl } from '../http-config.ts'
import type { ProviderAdapter, ProviderDefinition } from '../types.ts'
import { fromAnthropicResponse } from './from-anthropic-response.ts'
import { mapError } from './map-error.ts'
import { createStreamTranslator } from './stream-translator.ts'
import { toAnthropicRequest } from './to-anthropic-request.ts'

const configSchema = z.strictObject({
  kind: z.literal('anthropic'),
  ...httpProviderFields,
  base_url: httpProviderFields.base_url.default('https://api.anthropic.com'),
  anthropic_version: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'anthropic_version is a date, e.g. 2023-06-01')
    .default('2023-06-01'),
  /** Anthropic requires max_tokens; this is sent when the client sets none. */
  default_max_tokens: z.number().int().positive().default(4096),
  /**
   * How reasoning_effort becomes thinking: `budget` (thinking budgets, Claude 4.5 and earlier)
   * or `adaptive` (adaptive thinking with output_config.effort, Claude 4.6 and later).
   */
  reasoning_mode: z.enum(['budget', 'adaptive']).default('budget'),
  /**
   * `auto` asks Anthropic to cache every request's prompt up to its last block (automatic
   * caching), unless the request places its own breakpoints. A cache write costs 1.25x the
   * prompt's input price (2x for `1h`) and a read 0.1x, so it pays when prompts repeat.
   */
  prompt_caching: z.enum(['off', 'auto']).default('off'),
  prompt_cache_ttl: z.enum(['5m', '1h']).default('5m'),
})
export type AnthropicProviderConfig = z.infer<typeof configSchema>

/** The API version from which temperature, top_p and top_k are refused at any value. */
const samplingRemovedIn = '2026-10-21'

export interface AnthropicAdapterOptions {
  /** The clock for `created`, in milliseconds; a parameter so tests are exact. */
  now?: () => number
}

export function createAnthropicAdapter(
  config: AnthropicProviderConfig,
  options: AnthropicAdapterOptions = {},
): ProviderAdapter {
  const now = options.now ?? Date.now
  const { origin, pathPrefix, query } = splitBaseUrl(config.base_url)
  // `base_url` is the API root; a trailing /v1 is tolerated rather than doubled.
  const path = `${pathPrefix.replace(/\/v1$/, '')}/v1/messages${query}`
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': config.anthropic_version,
    ...config.headers,
  }
  if (config.api_key) headers['x-api-key'] = config.api_key
  const secrets = config.api_key ? [config.api_key] : []
  const requestOptions = {
    defaultMaxTokens: config.default_max_tokens,
    reasoningMode: config.reasoning_mode,
    samplingParameters: config.anthropic_version < samplingRemovedIn,
    autoCache:
      config.prompt_caching === 'off'
        ? undefined
        : config.prompt_cache_ttl === '1h'
          ? { type: 'ephemeral' as const, ttl: '1h' as const }
          : { type: 'ephemeral' as const },
  }
  const seconds = () => Math.floor(now() / 1000)

  return {
    buildRequest(request, target) {
      const { body, dropped } = toAnthropicRequest(request, target, requestOptions)
      return {
        request: { method: 'POST', origin, path, headers, body: JSON.stringify(body) },
        dropped,
      }
    },
    parseResponse(body, target) {
      return fromAnthropicResponse(body, target.requestedModel, seconds())
    },
    createStreamTranslator(target) {
      return createStreamTranslator({
        requestedModel: target.requestedModel,
        clientWantsUsage: target.clientWantsUsage,
        created: seconds(),
        secrets,
      })
    },
    parseError(status, body, responseHeaders) {
      return mapError(status, body, responseHeaders, secrets)
    },
  }
}

export const anthropicProvider: ProviderDefinition<AnthropicProviderConfig> = {
  kind: 'anthropic',
  configSchema,
  createAdapter: (config) => createAnthropicAdapter(config),
  createTransport: createTransportFor,
}
