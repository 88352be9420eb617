/**
 * Metrics under `serve --workers N`: every worker counts its own requests, and a scrape lands on
 * whichever worker the connection went to. So a worker asked for metrics asks the primary, which
 * gathers every worker's registry with prom-client's cluster aggregator (counters and histograms
 * summed, per label set) and answers with the whole group's text. Loaded only in a cluster.
 */
import type * as Cluster from 'node:cluster'
import { createRequire } from 'node:module'
import type * as Prom from 'prom-client'

const require = createRequire(import.meta.url)
type AggregatorRegistryClass = typeof Prom.AggregatorRegistry

function aggregatorRegistry(): AggregatorRegistryClass {
  return require('prom-client/lib/cluster.js') as AggregatorRegistryClass
}

const request = 'switchyard:metrics-request'
const answer = 'switchyard:metrics'

interface MetricsRequest {
  type: typeof request
  id: number
}

interface MetricsAnswer {
  type: typeof answer
  id: number
  text?: string
  error?: string
}

/** In the primary: answers workers' requests with every worker's metrics, aggregated. */
export function aggregateForWorkers(): void {
  const cluster = require('node:cluster') as Cluster.Cluster
  const AggregatorRegistry = aggregatorRegistry()
  // Constructing it starts prom-client's own listener for the workers' registries.
  const aggregator = new AggregatorRegistry()
  cluster.on('message', (worker, message: Partial<MetricsRequest>) => {
    if (message?.type !== request || typeof message.id !== 'number') return
    const { id } = message
    aggregator.clusterMetrics().then(
      (text) => reply(worker, { type: answer, id, text }),
      (error: Error) => reply(worker, { type: answer, id, error: error.message }),
    )
  })
}

function reply(worker: Cluster.Worker, message: MetricsAnswer): void {
  if (worker.isConnected()) worker.send(message)
}

export interface ClusterMetricsSource {
  /** The whole group's metrics in the Prometheus text format, from the primary. */
  render(): Promise<string>
}

/**
 * In a worker: answers the primary with `registry` and asks it for the group's metrics. A primary
 * that does not answer within `timeoutMs` fails the scrape rather than serve one worker's share.
 */
export function askPrimary(registry: Prom.Registry, timeoutMs = 5_000): ClusterMetricsSource {
  const AggregatorRegistry = aggregatorRegistry()
  new AggregatorRegistry()
  AggregatorRegistry.setRegistries([registry])
  const waiting = new Map<number, (result: MetricsAnswer) => void>()
  let nextId = 0
  process.on('message', (message: Partial<MetricsAnswer>) => {
    if (message?.type !== answer || typeof message.id !== 'number') return
    waiting.get(message.id)?.(message as MetricsAnswer)
  })
  return {
    render() {
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id)
          reject(new Error('the primary did not answer with the workers’ metrics in time'))
        }, timeoutMs)
        waiting.set(id, (result) => {
          clearTimeout(timer)
          waiting.delete(id)
          if (result.text !== undefined) resolve(result.text)
          else reject(new Error(result.error ?? 'the primary could not gather the metrics'))
        })
        process.send?.({ type: request, id } satisfies MetricsRequest)
      })
    },
  }
}
