/** `switchyard serve|check`: the command line. */
import cluster from 'node:cluster'
import { ConfigError, formatProblem, loadConfig, resolveConfigPath } from '../config/load.ts'
import { parseArgs } from '../core/builtins.ts'
import { startGateway } from '../start.ts'
import { releaseStartupMemory, tuneHeap } from './heap-tuning.ts'
import { keysCommand, keysUsage } from './keys.ts'
import { runPrimary, shutdownMessage } from './workers.ts'

const usage = `Usage:
  switchyard serve [--config FILE] [--host H] [--port N] [--workers N]
  switchyard check --config FILE
${keysUsage}`

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'serve') return serve(rest)
  if (command === 'check') return check(rest)
  if (command === 'keys') return keysCommand(rest)
  process.stderr.write(
    command === undefined || command === '--help' ? usage : `Unknown command ${command}\n${usage}`,
  )
  return command === undefined || command === '--help' ? 0 : 2
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      workers: { type: 'string' },
    },
  })
  let loaded: ReturnType<typeof loadConfig>
  try {
    loaded = loadConfig(resolveConfigPath(values.config))
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      return 2
    }
    throw error
  }
  const { config } = loaded
  if (values.host !== undefined) config.server.host = values.host
  if (values.port !== undefined) {
    const port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`--port must be an integer from 0 to 65535, got ${values.port}\n`)
      return 2
    }
    config.server.port = port
  }
  const workers = Number(values.workers ?? 1)
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    process.stderr.write(`--workers must be an integer from 1 to 256, got ${values.workers}\n`)
    return 2
  }
  // The config is loaded and checked above, so a bad one fails once, before any worker starts.
  // `--workers 1` still runs a primary: one serving process whose config SIGHUP can reload.
  if (values.workers !== undefined && cluster.isPrimary) {
    const path = resolveConfigPath(values.config)
    const primary = runPrimary(workers, {
      sharedState: config.redis !== undefined,
      metrics: config.server.metrics.enabled,
      checkConfig() {
        try {
          loadConfig(path)
          return undefined
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error
          return error.message
        }
      },
    })
    // The primary loaded the config (and so every module) only to check it; it serves nothing.
    releaseStartupMemory()
    return primary
  }
  // Listening for the end before start-up: a primary may ask a worker that is still starting.
  let stop: ((signal: string) => void) | undefined
  let asked: string | undefined
  const ask = (signal: string) => {
    if (stop === undefined) asked ??= signal
    else stop(signal)
  }
  process.once('SIGTERM', () => ask('SIGTERM'))
  process.once('SIGINT', () => ask('SIGINT'))
  if (cluster.isWorker) {
    process.on('message', (message) => {
      if (message === shutdownMessage) ask('primary')
    })
  }
  tuneHeap(process.execArgv, process.env.NODE_OPTIONS)
  const running = await startGateway({
    config,
    source: loaded.source,
    inCluster: cluster.isWorker,
    beforeListen: releaseStartupMemory,
  })
  // SIGHUP's default would end the process mid-stream. A worker leaves reloads to its primary.
  process.on('SIGHUP', () => {
    if (cluster.isWorker) return
    running.logger.warn('SIGHUP: reloading the config needs serve --workers N (1 or more); ignored')
  })
  await new Promise<void>((resolve) => {
    let stopping = false
    stop = (signal: string) => {
      if (stopping) return
      stopping = true
      running.logger.info({ signal }, 'draining before exit')
      void running.stop().then(resolve)
    }
    if (asked !== undefined) stop(asked)
  })
  // A worker's open channel to the primary would keep it alive after draining.
  if (cluster.isWorker) process.disconnect?.()
  return 0
}

function check(args: string[]): number {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } })
  if (values.config === undefined) {
    process.stderr.write(`check needs --config FILE\n${usage}`)
    return 2
  }
  try {
    const { config } = loadConfig(values.config)
    process.stdout.write(
      `${values.config}: valid (${Object.keys(config.providers).length} providers, ${config.models.length} models, ${config.auth.keys.length} keys)\n`,
    )
    return 0
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${error.file}: invalid\n`)
    for (const problem of error.problems) process.stderr.write(`  ${formatProblem(problem)}\n`)
    return 2
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2))
}
