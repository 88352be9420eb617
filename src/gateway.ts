/**
 * Builds the running gateway from a validated config, once at start-up: providers with their
 * adapters and connection pools, the model catalog and the key ring. Nothing here runs per request.
 */
import { createKeyRing, type KeyRing, type KeySpec } from './auth/keys.ts'
import { lazyResponseCache, type ResponseCache } from './cache/response-cache.ts'
import { type Catalog, createCatalog } from './catalog.ts'
import type { Config } from './config/schema.ts'
import type { RequestRecorder } from './core/request-record.ts'
import { createLimiter, type Limiter, type SpendSeed } from './limits/limiter.ts'
import { createMemoryStore } from './limits/memory-store.ts'
import { createRedisStore } from './limits/redis-store.ts'
import { createMetrics, type Metrics } from './metrics/metrics.ts'
import { providerDefinition } from './providers/registry.ts'
import { routeOwner } from './routing/config.ts'
import type { Store } from './store/open-store.ts'
import type { Provider } from './upstream/call.ts'
import { createImageInliner, type ImageInliner } from './upstream/inline-images.ts'

export interface Gateway {
  config: Config
  catalog: Catalog
  keys: KeyRing
  providers: ReadonlyMap<string, Provider>
  /** Told about every finished chat request (usage log, metrics); they queue, never block. */
  recorders: RequestRecorder[]
  /** Per-key rate limits and budgets; admits chat requests and settles them as a recorder. */
  limiter: Limiter
  /** Undefined when `server.metrics.enabled` is false. */
  metrics: Metrics | undefined
  /** Stored keys, the usage log and their queries (the admin API); opened by `startGateway`. */
  store: Store | undefined
  /** Answers of routes with `cache`; created on first use. */
  responseCache(): ResponseCache
  close(): Promise<void>
}

export interface GatewayOptions {
  /** Keys besides the config file's (the generated default key). */
  extraKeys?: readonly KeySpec[]
  store?: Store | undefined
  now?: () => number
  logger?: { warn(details: object, message: string): void }
  /** Starting spend of a key's budget period, from the usage log. */
  seedSpend?: SpendSeed
  /** A `serve --workers` worker: metrics scrapes answer for the whole group. */
  inCluster?: boolean
}

export function createGateway(config: Config, options: GatewayOptions = {}): Gateway {
  const { store } = options
  const providers = new Map<string, Provider>()
  // One downloader (one connection pool) for every provider that needs image URLs inlined.
  let imageInliner: ImageInliner | undefined
  for (const [name, providerConfig] of Object.entries(config.providers)) {
    const definition = providerDefinition(providerConfig.kind)
    const transport = definition.createTransport?.(providerConfig)
    if (transport === undefined)
      throw new Error(`Provider kind ${providerConfig.kind} has no transport`)
    const adapter = definition.createAdapter(providerConfig)
    if (adapter.inlinesImageUrls) imageInliner ??= createImageInliner(config.server.image_fetch)
    providers.set(name, {
      name,
      kind: providerConfig.kind,
      adapter,
      transport,
      imageInliner: adapter.inlinesImageUrls ? imageInliner : undefined,
    })
  }
  const { redis } = config
  const counters = redis
    ? createRedisStore({
        url: redis.url,
        prefix: config.limits.redis_prefix,
        timeoutMs: config.limits.redis_timeout_ms,
        onConnectionError: (error) =>
          options.logger?.warn({ err: error }, 'Redis connection error'),
      })
    : createMemoryStore()
  const responseCache = lazyResponseCache({
    maxBytes: config.cache.max_bytes,
    redis: redis && {
      url: redis.url,
      prefix: config.cache.redis_prefix,
      timeoutMs: config.cache.redis_timeout_ms,
    },
    onError: (error) => options.logger?.warn({ err: error }, 'response cache unavailable'),
  })
  const catalog = createCatalog(config.models, (options.now ?? Date.now)())
  const metrics = config.server.metrics.enabled
    ? createMetrics({
        cluster: options.inCluster === true,
        providerOf: (modelId) => {
          const model = catalog.resolve(modelId)
          return model && routeOwner(model.route)
        },
      })
    : undefined
  const limiter = createLimiter({
    store: counters,
    failure: config.limits.redis_failure,
    now: options.now,
    logger: options.logger,
    seed: options.seedSpend,
    onRejected: metrics?.limiterRejected,
  })
  return {
    config,
    catalog,
    keys: createKeyRing([...config.auth.keys, ...(options.extraKeys ?? [])], store?.keyLookup),
    providers,
    recorders: [
      limiter,
      ...(metrics ? [metrics.recorder] : []),
      ...(store && config.store.usage_log.enabled ? [store.usageLog] : []),
    ],
    limiter,
    metrics,
    store,
    responseCache: responseCache.cache,
    async close() {
      await Promise.all([
        ...[...providers.values()].map((provider) => provider.transport.close()),
        imageInliner?.close(),
        responseCache.close(),
      ])
      await limiter.close()
      // After the server drained: the usage log writes everything it accepted, then closes.
      await store?.close()
    },
  }
}
