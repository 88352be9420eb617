/**
 * `switchyard serve --workers N`: a primary process forks N gateway workers that share one
 * listening port (node:cluster); it serves nothing itself. The first worker starts alone, so the
 * default key it may create exists before the others look for it. A worker that dies after it
 * started is replaced; one that dies before listening (a taken port, say) stops the whole group.
 * SIGTERM or SIGINT asks every worker to drain; the primary exits once all have, with 0 when every
 * worker exited cleanly.
 *
 * SIGHUP reloads the config without dropping a request: the primary checks the file, starts a new
 * set of workers (which read it), and once every one of them listens, asks the old ones to drain.
 * A config that does not load, or a new worker that fails to start, leaves the old workers serving.
 */
import cluster, { type Worker } from 'node:cluster'
import { pino } from 'pino'
import { aggregateForWorkers } from '../metrics/cluster-metrics.ts'

/** Sent by the primary over the cluster channel: drain and exit, as on SIGTERM. */
export const shutdownMessage = 'switchyard:shutdown'

export interface PrimaryOptions {
  /** `redis:` is configured: limits and the response cache are shared by the workers. */
  sharedState: boolean
  /** Loads the config file again for SIGHUP; a message when it does not load. */
  checkConfig(): string | undefined
  /** Metrics are on: the primary gathers the workers' metrics for whichever worker is scraped. */
  metrics: boolean
}

export function runPrimary(workerCount: number, options: PrimaryOptions): Promise<number> {
  const logger = pino({ base: null })
  const live = new Set<Worker>()
  const started = new WeakSet<Worker>()
  /** Workers asked to drain because a reload replaced them: they are not replaced again. */
  const retiring = new WeakSet<Worker>()
  /** The workers of a reload still starting, while one is under way. */
  let incoming: Set<Worker> | undefined
  let stopping = false
  let failed = false

  /**
   * Asks a worker to drain and exit. One still starting may not listen for the message yet, and it
   * has no requests to finish: SIGTERM, which it either handles once started or dies of.
   */
  const stopWorker = (worker: Worker) => {
    if (!started.has(worker)) worker.process.kill('SIGTERM')
    else if (worker.isConnected()) worker.send(shutdownMessage)
  }

  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (!stopping || live.size > 0) return
      logger.info({ failed }, 'all workers stopped')
      resolve(failed ? 1 : 0)
    }
    const stopAll = () => {
      stopping = true
      for (const worker of live) stopWorker(worker)
      finishIfDone()
    }
    const retire = (workers: Iterable<Worker>) => {
      for (const worker of workers) {
        retiring.add(worker)
        stopWorker(worker)
      }
    }
    const fork = (batch?: Set<Worker>) => {
      const worker = cluster.fork()
      live.add(worker)
      batch?.add(worker)
      worker.once('listening', () => {
        started.add(worker)
        if (batch !== undefined) {
          if (batch !== incoming || ![...batch].every((fresh) => started.has(fresh))) return
          // Every new worker listens: the old ones drain what they have and exit.
          incoming = undefined
          retire([...live].filter((old) => !batch.has(old)))
          logger.info({ workers: batch.size }, 'config reloaded')
          return
        }
        // The first worker is up: start the others.
        if (!stopping) while (live.size < workerCount) fork()
      })
      worker.once('exit', (code, signal) => {
        live.delete(worker)
        if (stopping) {
          if (code !== 0 && !retiring.has(worker)) failed = true
          finishIfDone()
        } else if (retiring.has(worker)) {
          // Replaced by a reload; its successors already serve.
        } else if (batch !== undefined && !started.has(worker)) {
          logger.error(
            { pid: worker.process.pid, code, signal },
            'a worker of the reloaded config failed to start; the old workers keep serving',
          )
          if (batch === incoming) incoming = undefined
          retire(batch)
        } else if (!started.has(worker)) {
          logger.error({ pid: worker.process.pid, code, signal }, 'worker failed to start')
          failed = true
          stopAll()
        } else {
          logger.warn({ pid: worker.process.pid, code, signal }, 'worker died; starting another')
          fork()
        }
      })
    }
    const reload = () => {
      if (stopping) return
      if (incoming !== undefined) {
        logger.warn('a reload is already under way; this SIGHUP is ignored')
        return
      }
      const problem = options.checkConfig()
      if (problem !== undefined) {
        logger.error({ problem }, 'config reload refused; the workers keep the config they have')
        return
      }
      logger.info({ workers: workerCount }, 'reloading the config: starting new workers')
      incoming = new Set()
      for (let index = 0; index < workerCount; index++) fork(incoming)
    }
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal, workers: live.size }, 'draining workers before exit')
        stopAll()
      })
    }
    process.on('SIGHUP', reload)
    if (options.metrics) aggregateForWorkers()
    logger.info({ workers: workerCount }, 'starting workers')
    if (!options.sharedState && workerCount > 1) {
      // Workers share no memory: each one counts a key's rpm, tpm and budget on its own.
      logger.warn(
        { workers: workerCount },
        'no redis: configured, so rate limits, budgets and the response cache are per worker; each worker allows a key its full limit',
      )
    }
    fork()
  })
}
