/**
 * Starts a gateway from a validated config: the one entry point used by `switchyard serve` and by
 * the tests. Returns its URL and a graceful `stop`.
 */
import type { AddressInfo } from 'node:net'
import { type Logger, pino } from 'pino'
import { ensureDefaultKey } from './auth/default-key.ts'
import type { KeySpec } from './auth/keys.ts'
import type { Config } from './config/schema.ts'
import { createGateway, type Gateway } from './gateway.ts'
import { accessLogBufferBytes } from './server/access-log.ts'
import { createGatewayServer } from './server/app.ts'
import { openStore, storeUrl } from './store/open-store.ts'

export interface StartOptions {
  config: Config
  logger?: Logger
  /** Where the config came from, for the start-up log. */
  source?: string
  /** A `serve --workers` worker (see GatewayOptions). */
  inCluster?: boolean
  /**
   * Runs once everything is built, just before the server listens: `serve`'s start-up collection
   * (heap-tuning.ts) stops the process for 100-250 ms, which a request already accepted would wait.
   */
  beforeListen?: () => void
}

export interface RunningGateway {
  url: string
  gateway: Gateway
  logger: Logger
  /** Stops accepting, lets in-flight requests and streams finish (up to the grace period), closes. */
  stop(graceMs?: number): Promise<void>
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const { config } = options
  // One write(2) per log line cost about a tenth of a request's CPU: lines are buffered up to
  // 12 KiB and written asynchronously, at the latest 250 ms later; pino flushes on exit. Access
  // lines arrive already batched (src/server/access-log.ts).
  const logger =
    options.logger ??
    pino(
      { level: config.server.log_level, base: null },
      pino.destination({ sync: false, minLength: accessLogBufferBytes, periodicFlush: 250 }),
    )
  const extraKeys: KeySpec[] = []
  if (config.auth.keys.length === 0) {
    const defaultKey = ensureDefaultKey(config.server.data_dir)
    extraKeys.push({ name: 'default', key: defaultKey.key, models: ['*'] })
    if (defaultKey.origin === 'created') {
      // Shown once, on the start that creates it; later starts only say where it is.
      process.stderr.write(
        `\nSwitchyard generated an API key for this gateway (stored in ${defaultKey.file}):\n\n    ${defaultKey.key}\n\n`,
      )
    } else {
      logger.info({ origin: defaultKey.origin, file: defaultKey.file }, 'using the default API key')
    }
  }
  const store = await openStore(storeUrl(config), { logger, usageLog: config.store.usage_log })
  const gateway = createGateway(config, {
    inCluster: options.inCluster === true,
    extraKeys,
    logger,
    store,
    // A budget period's spend so far comes from the usage log, so a restart does not reset it.
    seedSpend: (keyId, periodStart) => store.usage.spentSince(keyId, periodStart.getTime()),
  })
  const edge = createGatewayServer(gateway, logger)
  const { server } = edge
  options.beforeListen?.()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.server.port, config.server.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    edge.accessLog?.close()
    await gateway.close()
    throw error
  }
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  logger.info(
    {
      url,
      config: options.source ?? 'inline',
      models: gateway.catalog.entries().length,
      store: store.location,
    },
    `Switchyard listening on ${url}`,
  )

  let stopping: Promise<void> | undefined
  async function stop(graceMs = config.server.shutdown_grace_ms): Promise<void> {
    stopping ??= (async () => {
      edge.startDraining()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const deadline = Date.now() + graceMs
      while (edge.inFlight() > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25))
        server.closeIdleConnections()
      }
      if (edge.inFlight() > 0)
        logger.warn({ in_flight: edge.inFlight() }, 'grace period over; closing open requests')
      server.closeAllConnections()
      await closed
      edge.accessLog?.close()
      await gateway.close()
      logger.info('Switchyard stopped')
    })()
    return stopping
  }

  return { url, gateway, logger, stop }
}
