import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from './prom-client.ts'
import { createTalliedHistogram } from './tallied-histogram.ts'

test('observations land in cumulative buckets (a bound is inclusive), with sum and count', async () => {
  const registry = new Registry()
  const histogram = createTalliedHistogram({
    name: 'h_seconds',
    help: 'A test histogram.',
    buckets: [0.1, 1],
    registers: [registry],
  })
  const series = histogram.series({ model: 'm', stream: 'false' })
  for (const value of [0.05, 0.1, 0.5, 2]) series.observe(value)
  // Equal labels share one series: a second caller adds to the same counts.
  histogram.series({ model: 'm', stream: 'false' }).observe(1)
  const text = await registry.metrics()
  const lines = text.split('\n').filter((line) => line.startsWith('h_seconds'))
  assert.deepEqual(lines, [
    'h_seconds_bucket{le="0.1",model="m",stream="false"} 2',
    'h_seconds_bucket{le="1",model="m",stream="false"} 4',
    'h_seconds_bucket{le="+Inf",model="m",stream="false"} 5',
    'h_seconds_sum{model="m",stream="false"} 3.65',
    'h_seconds_count{model="m",stream="false"} 5',
  ])
  await registry.resetMetrics()
  assert.match(await registry.metrics(), /^h_seconds_count\{model="m",stream="false"\} 0$/m)
})
