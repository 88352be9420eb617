/**
 * A Prometheus histogram kept as plain bucket counts per label set and handed to prom-client's
 * registry when it is read (rendering, cluster aggregation and formatting stay prom-client's).
 * prom-client's own `observe` converts and hashes the labels into a fresh string and keys the
 * buckets by their float bounds on every call (its runtime calls alone were about 1.5k
 * instructions per request); here an observation is a walk over the bounds and three additions
 * on a series the caller already holds.
 */
import type * as Prom from 'prom-client'

export interface HistogramSeries {
  observe(value: number): void
}

interface Tally {
  /** Label values, in the order the values are written. */
  labels: Record<string, string>
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  counts: number[]
  sum: number
  count: number
}

export interface TalliedHistogramOptions {
  name: string
  help: string
  buckets: readonly number[]
  registers: readonly Prom.Registry[]
}

export interface TalliedHistogram {
  /** The series of one label set (the same one for equal labels); look it up once and keep it. */
  series(labels: Record<string, string>): HistogramSeries
}

export function createTalliedHistogram(options: TalliedHistogramOptions): TalliedHistogram {
  const { name, help, buckets } = options
  const tallies: Tally[] = []

  /** prom-client's shape of a histogram: cumulative buckets with `le` first, then sum and count. */
  function values(): Prom.MetricValueWithName<string>[] {
    const rendered: Prom.MetricValueWithName<string>[] = []
    for (const tally of tallies) {
      let cumulative = 0
      for (const [index, bound] of buckets.entries()) {
        cumulative += tally.counts[index]!
        rendered.push({
          labels: { le: bound, ...tally.labels },
          value: cumulative,
          metricName: `${name}_bucket`,
        })
      }
      rendered.push(
        {
          labels: { le: '+Inf', ...tally.labels },
          value: tally.count,
          metricName: `${name}_bucket`,
        },
        { labels: { ...tally.labels }, value: tally.sum, metricName: `${name}_sum` },
        { labels: { ...tally.labels }, value: tally.count, metricName: `${name}_count` },
      )
    }
    return rendered
  }

  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
    reset() {
      for (const tally of tallies) {
        tally.counts.fill(0)
        tally.sum = 0
        tally.count = 0
      }
    },
  }
  // The registry reads a metric through `get()` (and `reset()`), which this object answers in
  // prom-client's own shapes; its declared parameter lists only prom-client's classes.
  for (const registry of options.registers) {
    registry.registerMetric(metric as unknown as Prom.Metric)
  }

  /** One tally per label set, however many callers ask for it. */
  const byLabels = new Map<string, HistogramSeries>()
  return {
    series(labels) {
      const id = JSON.stringify(labels)
      const known = byLabels.get(id)
      if (known !== undefined) return known
      const tally: Tally = {
        labels,
        counts: new Array(buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
      }
      tallies.push(tally)
      const series: HistogramSeries = {
        observe(value) {
          let index = 0
          while (index < buckets.length && value > buckets[index]!) index++
          tally.counts[index]!++
          tally.sum += value
          tally.count++
        },
      }
      byLabels.set(id, series)
      return series
    },
  }
}
