/**
 * Which requests share a cached answer. `simple` caching is an exact match on what decides the
 * answer: the API key (answers never cross keys), the route (its config, so a changed route does
 * not serve answers from the old one) and the request body as the client sent it, except `stream`
 * and `stream_options`: a streamed and an unstreamed request share one entry.
 */

import { createHash } from '../core/builtins.ts'
import type { ChatRequest } from '../core/chat.ts'
import type { RouteConfig } from '../routing/config.ts'

export interface CachePolicy {
  maxAgeMs: number
  /** What identifies the route: the model or saved config and its whole config. */
  namespace: string
}

/** The cache policy of a route's top-level `cache`, or undefined when it caches nothing. */
export function cachePolicy(
  config: RouteConfig,
  label: string,
  defaultMaxAgeSeconds: number,
): CachePolicy | undefined {
  if (config.cache === undefined) return undefined
  return {
    maxAgeMs: (config.cache.max_age ?? defaultMaxAgeSeconds) * 1000,
    namespace: `${label}\n${JSON.stringify(config)}`,
  }
}

export function cacheKey(keyId: string, policy: CachePolicy, request: ChatRequest): string {
  const { stream: _stream, stream_options: _streamOptions, ...answerShaping } = request
  return createHash('sha256')
    .update(keyId)
    .update('\n')
    .update(policy.namespace)
    .update('\n')
    .update(JSON.stringify(answerShaping))
    .digest('base64url')
}
