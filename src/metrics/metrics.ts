/**
 * The gateway's Prometheus metrics, in a registry of its own (so several gateways can live in one
 * process). Most are fed by a request recorder when each chat request ends, so the hot path pays
 * a map lookup, a few additions and two histogram observations. Labels hold only catalog model
 * ids, configured provider names, HTTP statuses and error codes from our catalogue: never raw
 * client input, never keys.
 */

import type { ServerResponse } from 'node:http'
import type * as Prom from 'prom-client'
import { childMap } from '../core/child-map.ts'
import type { RequestRecord, RequestRecorder } from '../core/request-record.ts'
import type { LimitKind } from '../limits/rate-bucket.ts'
import { askPrimary } from './cluster-metrics.ts'
import { Counter, collectDefaultMetrics, Gauge, Registry } from './prom-client.ts'
import { createTalliedHistogram, type HistogramSeries } from './tallied-histogram.ts'

export interface Metrics {
  recorder: RequestRecorder
  /** A key's limit refused a request. */
  limiterRejected(kind: LimitKind, record: RequestRecord): void
  /** Counts an SSE stream as open until its response closes. */
  trackStream(response: ServerResponse): void
  /** Where the in-flight request count is read from at scrape time (the HTTP edge). */
  observeInFlight(source: () => number): void
  render(): Promise<string>
  contentType: string
}

/** Codes of failures that came from (or on the way to) an upstream, for the errors counter. */
const upstreamCodes = new Set([
  'upstream_error',
  'upstream_unreachable',
  'upstream_auth',
  'upstream_overloaded',
  'upstream_timeout',
  'no_healthy_target',
  'rate_limit_exceeded',
])

/**
 * One label combination. Its counters are tallied here, in plain numbers, and added to
 * prom-client's counters when metrics are rendered: a prom-client `inc` validates and hashes the
 * labels on every call, which was most of what the recorder cost per request. The histograms
 * are tallied the same way, in ./tallied-histogram.ts.
 */
interface Series {
  duration: HistogramSeries
  firstToken: HistogramSeries
  counters: {
    requests: Prom.Counter.Internal
    promptTokens: Prom.Counter.Internal
    completionTokens: Prom.Counter.Internal
    cost: Prom.Counter.Internal
  }
  /** Not yet added to the counters above. */
  pending: { requests: number; promptTokens: number; completionTokens: number; cost: number }
  dirty: boolean
}

export interface MetricsOptions {
  /**
   * The provider a model routes to, for requests that failed before a provider was recorded
   * (an upstream error thrown by the route).
   */
  providerOf?: (modelId: string) => string | undefined
  /** Process metrics (CPU, memory, event loop lag); on by default. */
  defaultMetrics?: boolean
  /** A `serve --workers` worker: scrapes answer with the whole group's metrics, from the primary. */
  cluster?: boolean
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  const registers = [registry]
  if (options.defaultMetrics !== false) {
    // The event-loop lag monitor samples every 10 ms by default: about 190 wake-ups a second of an
    // idle gateway, most of its idle CPU. Sampled every 100 ms, the lag percentiles still come
    // from every sample's real delay.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 })
  }
  const modelLabels = ['model', 'provider'] as const
  const requests = new Counter({
    name: 'switchyard_requests_total',
    help: 'Chat completion requests, by catalog model, provider and HTTP status.',
    labelNames: [...modelLabels, 'status'],
    registers,
    // Registered first, so every read of the registry (a scrape, a primary gathering workers'
    // metrics) adds the tallies to all the counters before any of them is read.
    collect: () => flushTallies(),
  })
  const duration = createTalliedHistogram({
    name: 'switchyard_request_duration_seconds',
    help: 'Time from request to the end of the response (the whole stream for streams).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300],
    registers,
  })
  const firstToken = createTalliedHistogram({
    name: 'switchyard_time_to_first_token_seconds',
    help: 'Time from request to the first streamed chunk.',
    buckets: [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3, 6, 12, 30],
    registers,
  })
  const promptTokens = new Counter({
    name: 'switchyard_prompt_tokens_total',
    help: 'Prompt tokens reported by upstreams.',
    labelNames: modelLabels,
    registers,
  })
  const completionTokens = new Counter({
    name: 'switchyard_completion_tokens_total',
    help: 'Completion tokens reported by upstreams.',
    labelNames: modelLabels,
    registers,
  })
  const cost = new Counter({
    name: 'switchyard_cost_total',
    help: "Cost of requests, in the currency of the models' costs.",
    labelNames: modelLabels,
    registers,
  })
  const upstreamErrors = new Counter({
    name: 'switchyard_upstream_errors_total',
    help: 'Requests that ended in an upstream failure, by provider and error code.',
    labelNames: ['provider', 'code'],
    registers,
  })
  const cacheHits = new Counter({
    name: 'switchyard_cache_hits_total',
    help: 'Requests answered from the response cache (also counted in switchyard_requests_total).',
    labelNames: modelLabels,
    registers,
  })
  const rejections = new Counter({
    name: 'switchyard_limiter_rejections_total',
    help: "Requests refused by a key's limits, by kind (rpm, tpm, budget).",
    labelNames: ['kind'],
    registers,
  })
  let inFlightSource: () => number = () => 0
  new Gauge({
    name: 'switchyard_in_flight_requests',
    help: 'HTTP requests being handled, open streams included.',
    registers,
    collect() {
      this.set(inFlightSource())
    },
  })
  const streams = new Gauge({
    name: 'switchyard_in_flight_streams',
    help: 'Streamed responses currently open.',
    registers,
  })

  /**
   * Series by model, provider, status and stream (index 0 or 1). Nested maps of the labels as
   * they come, rather than one map keyed by a string joined per request: a fresh joined key is
   * flattened and hashed on every lookup.
   */
  const seriesCache = new Map<string, Map<string, Map<number, (Series | undefined)[]>>>()
  /** Series with tallies not yet added to prom-client's counters. */
  let dirty: Series[] = []

  function flushTallies(): void {
    const flushing = dirty
    dirty = []
    for (const series of flushing) {
      const { pending, counters } = series
      counters.requests.inc(pending.requests)
      if (pending.promptTokens > 0) counters.promptTokens.inc(pending.promptTokens)
      if (pending.completionTokens > 0) counters.completionTokens.inc(pending.completionTokens)
      if (pending.cost > 0) counters.cost.inc(pending.cost)
      pending.requests = pending.promptTokens = pending.completionTokens = pending.cost = 0
      series.dirty = false
    }
  }
  // Our own 429s carry the same code as an upstream's; these are not upstream errors.
  const limited = new WeakSet<RequestRecord>()

  function seriesFor(model: string, provider: string, status: number, stream: boolean): Series {
    const byStatus = childMap(childMap(seriesCache, model), provider)
    let byStream = byStatus.get(status)
    if (byStream === undefined) {
      byStream = [undefined, undefined]
      byStatus.set(status, byStream)
    }
    const index = stream ? 1 : 0
    let series = byStream[index]
    if (series === undefined) {
      const streamLabel = String(stream)
      series = {
        duration: duration.series({ model, provider, stream: streamLabel }),
        firstToken: firstToken.series({ model, provider }),
        counters: {
          requests: requests.labels(model, provider, String(status)),
          promptTokens: promptTokens.labels(model, provider),
          completionTokens: completionTokens.labels(model, provider),
          cost: cost.labels(model, provider),
        },
        pending: { requests: 0, promptTokens: 0, completionTokens: 0, cost: 0 },
        dirty: false,
      }
      byStream[index] = series
    }
    return series
  }

  return {
    recorder: {
      record(record) {
        const provider =
          record.provider ??
          (record.modelId === undefined ? undefined : options.providerOf?.(record.modelId)) ??
          'none'
        const series = seriesFor(record.modelId ?? 'none', provider, record.status, record.stream)
        const { pending } = series
        pending.requests++
        if (record.promptTokens > 0) pending.promptTokens += record.promptTokens
        if (record.completionTokens > 0) pending.completionTokens += record.completionTokens
        if (record.cost > 0) pending.cost += record.cost
        if (!series.dirty) {
          series.dirty = true
          dirty.push(series)
        }
        series.duration.observe(record.latencyMs / 1000)
        if (record.ttftMs !== undefined) series.firstToken.observe(record.ttftMs / 1000)
        if (record.cacheHit) cacheHits.labels(record.modelId ?? 'none', provider).inc()
        const code = record.errorCode
        if (code !== undefined && upstreamCodes.has(code) && !limited.has(record)) {
          upstreamErrors.labels(provider, code).inc()
        }
      },
    },
    limiterRejected(kind, record) {
      limited.add(record)
      rejections.labels(kind).inc()
    },
    trackStream(response) {
      streams.inc()
      response.once('close', () => streams.dec())
    },
    observeInFlight(source) {
      inFlightSource = source
    },
    render: options.cluster === true ? askPrimary(registry).render : () => registry.metrics(),
    contentType: registry.contentType,
  }
}
