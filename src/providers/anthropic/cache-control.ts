/**
 * Anthropic prompt caching from OpenAI requests. OpenAI's format has no cache breakpoints, so the
 * gateway reads the field Anthropic's own API uses, `cache_control`, where a client puts it on an
 * OpenAI content part or tool (as clients written for LiteLLM do): `{"type": "ephemeral"}`, with
 * an optional `ttl` of `5m` or `1h`. The prompt up to that block is cached and later requests
 * read it at a tenth of the price; the usage reports it as `cached_tokens`. On the request itself
 * it is Anthropic's automatic caching: the breakpoint goes on the last cacheable block, so a
 * conversation's cached prefix moves forward with it.
 */
import { GatewayError } from '../../core/errors.ts'
import type { CacheControlEphemeral } from './types.ts'

/**
 * The breakpoint a part, message, tool or the request itself carries, checked; undefined when it
 * carries none. `param` is the carrier's path in the request, '' for the request.
 */
export function readCacheControl(
  carrier: object,
  param: string,
): { cache_control: CacheControlEphemeral } | undefined {
  const sent = (carrier as { cache_control?: unknown }).cache_control
  if (sent === undefined || sent === null) return undefined
  const value = sent as { type?: unknown; ttl?: unknown }
  const { ttl } = value
  const ttlOk = ttl === undefined || ttl === '5m' || ttl === '1h'
  if (typeof sent !== 'object' || value.type !== 'ephemeral' || !ttlOk) {
    const field = param === '' ? 'cache_control' : `${param}.cache_control`
    throw new GatewayError(
      'invalid_request',
      `'${field}' must be {"type": "ephemeral"} with an optional "ttl" of "5m" or "1h"`,
      { param: field },
    )
  }
  return { cache_control: ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl } }
}
