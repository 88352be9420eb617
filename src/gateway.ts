/**
 * Builds the running gateway from a validated config, once at start-up: providers with their
 * adapters and connection pools, the model catalog and the key ring. Nothing here runs per request.
 */
import { createKeyRing, type KeyRing, type KeySpec } from './auth/keys.ts'
import { type Catalog, createCatalog } from './catalog.ts'
import type { Config } from './config/schema.ts'
import type { RequestRecorder } from './core/request-record.ts'
import { providerDefinition } from './providers/registry.ts'
import type { Store } from './store/open-store.ts'
import type { Provider } from './upstream/call.ts'

export interface Gateway {
  config: Config
  catalog: Catalog
  keys: KeyRing
  providers: ReadonlyMap<string, Provider>
  /** Told about every finished chat request (usage log, metrics); they queue, never block. */
  recorders: RequestRecorder[]
  /** Stored keys, the usage log and their queries (the admin API); opened by `startGateway`. */
  store: Store | undefined
  close(): Promise<void>
}

export interface GatewayOptions {
  /** Keys besides the config file's (the generated default key). */
  extraKeys?: readonly KeySpec[]
  store?: Store | undefined
  now?: () => number
}

export function createGateway(config: Config, options: GatewayOptions = {}): Gateway {
  const { store } = options
  const providers = new Map<string, Provider>()
  for (const [name, providerConfig] of Object.entries(config.providers)) {
    const definition = providerDefinition(providerConfig.kind)
    const transport = definition.createTransport?.(providerConfig)
    if (transport === undefined)
      throw new Error(`Provider kind ${providerConfig.kind} has no transport`)
    providers.set(name, {
      name,
      kind: providerConfig.kind,
      adapter: definition.createAdapter(providerConfig),
      transport,
    })
  }
  return {
    config,
    catalog: createCatalog(config.models, (options.now ?? Date.now)()),
    keys: createKeyRing([...config.auth.keys, ...(options.extraKeys ?? [])], store?.keyLookup),
    providers,
    recorders: store === undefined ? [] : [store.usageLog],
    store,
    async close() {
      await Promise.all([...providers.values()].map((provider) => provider.transport.close()))
      // After the server drained: the usage log writes everything it accepted, then closes.
      await store?.close()
    },
  }
}
