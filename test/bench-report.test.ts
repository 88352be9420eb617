import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Measurement, renderReport, type TargetSummary } from '../bench/report.ts'
import { scenarios, type TargetName } from '../bench/scenarios.ts'

function measured(cpuUsPerRequest: number, rps: number): Measurement {
  return {
    requests: rps * 3,
    rps,
    errors: 0,
    p50: 1,
    p99: 2,
    cpuUsPerRequest,
    hopCpuPercent: 99,
    mockCpuPercent: 50,
    coreBusyPercent: [50, 99],
    stealPercent: 0,
  }
}

function summary(target: TargetName, rounds: [number, number][]): TargetSummary {
  return { target, rounds: rounds.map(([cpu, rps]) => measured(cpu, rps)), peakRss: 100 }
}

const small = scenarios.find((scenario) => scenario.name === 'small')!
const streams = scenarios.find((scenario) => scenario.name === 'streams-1000')!

function render(
  targets: TargetSummary[],
  { paced = false, roundWarmupSeconds }: { paced?: boolean; roundWarmupSeconds?: number } = {},
): string {
  const results = [{ scenario: small, targets }]
  if (paced) results.push({ scenario: streams, targets })
  return renderReport({
    machine: {
      cpu: 'test',
      cores: 2,
      node: 'v0',
      commit: 'abc',
      loadBefore: '',
      loadAfter: '',
      date: '',
      pinning: 'off',
      workers: 1,
      nodeOptions: '',
    },
    features: {},
    notes: [],
    results,
    idleRss: {},
    rounds: targets[0]?.rounds.length ?? 0,
    seconds: 3,
    roundWarmupSeconds,
  })
}

/** The targets' rows for Switchyard's rounds (CPU µs, req/s) against a proxy at 100 µs and 1000/s. */
function targetsOf(switchyard: [number, number][]) {
  const proxy = switchyard.map((): [number, number] => [100, 1000])
  const report = render([summary('proxy', proxy), summary('switchyard', switchyard)])
  const row = (what: string) => report.split('\n').find((line) => line.startsWith(`| ${what} |`))
  return { cpu: row('unstreamed CPU/request'), rps: row('unstreamed throughput') }
}

test('bench report: a ratio target gives the median of the rounds, their range and the rounds that met it', () => {
  // CPU ratios per round 1.4, 1.6, 1.8; throughput ratios 0.75, 0.6, 0.5.
  const rows = targetsOf([
    [140, 750],
    [160, 600],
    [180, 500],
  ])
  assert.equal(
    rows.cpu,
    '| unstreamed CPU/request | ≤ 1.5x proxy | 1.60x (rounds 1.40-1.80) | NO (1 of 3 rounds met it) |',
  )
  assert.equal(
    rows.rps,
    '| unstreamed throughput | ≥ 0.7x proxy | 0.60x (rounds 0.50-0.75) | NO (1 of 3 rounds met it) |',
  )
})

test('bench report: a target met by its median says how many rounds did not meet it', () => {
  const rows = targetsOf([
    [120, 900],
    [130, 800],
    [160, 650],
  ])
  assert.equal(
    rows.cpu,
    '| unstreamed CPU/request | ≤ 1.5x proxy | 1.30x (rounds 1.20-1.60) | yes (1 of 3 rounds not) |',
  )
  assert.equal(
    rows.rps,
    '| unstreamed throughput | ≥ 0.7x proxy | 0.80x (rounds 0.65-0.90) | yes (1 of 3 rounds not) |',
  )
})

test('bench report: a target every round met is a plain yes, and a missing scenario is not measured', () => {
  const rows = targetsOf([
    [120, 900],
    [125, 850],
  ])
  assert.match(rows.cpu!, /\| yes \|$/)
  const report = render([summary('proxy', [[100, 1000]])])
  assert.match(report, /\| streamed throughput \| ≥ 0\.8x proxy \| not measured \| – \|/)
})

test('bench report: the method line names the paced scenarios the per-round lead-in skips', () => {
  const proxy = [summary('proxy', [[100, 1000]])]
  const pinning = (report: string) => report.split('\n').find((line) => line.startsWith('Pinning:'))
  assert.match(
    pinning(render(proxy, { paced: true, roundWarmupSeconds: 1 }))!,
    /1 interleaved rounds, each after 1 s of unmeasured load \(not streams-1000\), median shown\.$/,
  )
  assert.match(
    pinning(render(proxy, { roundWarmupSeconds: 1 }))!,
    /rounds, each after 1 s of unmeasured load, median shown\.$/,
  )
  assert.match(pinning(render(proxy))!, /1 interleaved rounds, median shown\.$/)
})
