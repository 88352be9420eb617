/**
 * `switchyard serve --workers N`: a primary process forks N gateway workers that share one
 * listening port (node:cluster); it serves nothing itself. The first worker starts alone, so the
 * default key it may create exists before the others look for it. A worker that dies after it
 * started is replaced; one that dies before listening (a taken port, say) stops the whole group.
 * SIGTERM or SIGINT asks every worker to drain; the primary exits once all have, with 0 when every
 * worker exited cleanly.
 */
import cluster, { type Worker } from 'node:cluster'
import { pino } from 'pino'

/** Sent by the primary over the cluster channel: drain and exit, as on SIGTERM. */
export const shutdownMessage = 'switchyard:shutdown'

export interface PrimaryOptions {
  /** `redis:` is configured: limits and the response cache are shared by the workers. */
  sharedState: boolean
}

export function runPrimary(workerCount: number, options: PrimaryOptions): Promise<number> {
  const logger = pino({ base: null })
  const live = new Set<Worker>()
  const started = new WeakSet<Worker>()
  let stopping = false
  let failed = false

  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (!stopping || live.size > 0) return
      logger.info({ failed }, 'all workers stopped')
      resolve(failed ? 1 : 0)
    }
    const stopAll = () => {
      stopping = true
      for (const worker of live) if (worker.isConnected()) worker.send(shutdownMessage)
      finishIfDone()
    }
    const fork = () => {
      const worker = cluster.fork()
      live.add(worker)
      worker.once('listening', () => {
        started.add(worker)
        // The first worker is up: start the others.
        if (!stopping) while (live.size < workerCount) fork()
      })
      worker.once('exit', (code, signal) => {
        live.delete(worker)
        if (stopping) {
          if (code !== 0) failed = true
          finishIfDone()
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
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal, workers: live.size }, 'draining workers before exit')
        stopAll()
      })
    }
    logger.info({ workers: workerCount }, 'starting workers')
    if (!options.sharedState) {
      // Workers share no memory: each one counts a key's rpm, tpm and budget on its own.
      logger.warn(
        { workers: workerCount },
        'no redis: configured, so rate limits, budgets and the response cache are per worker; each worker allows a key its full limit',
      )
    }
    fork()
  })
}
