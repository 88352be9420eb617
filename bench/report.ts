/** Turns a bench run into Markdown: the machine, the features on, one table per scenario, targets. */
import { roundWarmupFor, type Scenario, type TargetName } from './scenarios.ts'

export interface Measurement {
  requests: number
  rps: number
  errors: number
  /** Milliseconds: whole response for wrk, first chunk for the probe. */
  p50: number
  p99: number
  cpuUsPerRequest: number
  hopCpuPercent: number
  mockCpuPercent: number
  /** The local Redis server's CPU per request, measured for `switchyard-redis` only. */
  redisCpuUsPerRequest?: number
  coreBusyPercent: number[]
  stealPercent: number
  failure?: string
}

export interface TargetSummary {
  target: TargetName
  rounds: Measurement[]
  /** MiB, the highest sample while this scenario ran against this target. */
  peakRss: number
}

export interface ScenarioResult {
  scenario: Scenario
  targets: TargetSummary[]
}

export interface Machine {
  cpu: string
  cores: number
  node: string
  commit: string
  loadBefore: string
  loadAfter: string
  date: string
  pinning: string
  workers: number
  nodeOptions: string
}

/** The median of the finite values; NaN when there are none. */
export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((left, right) => left - right)
  if (sorted.length === 0) return Number.NaN
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** `low-high` of per-round ratios, to two places. */
export function ratioRange(ratios: readonly number[]): string {
  return `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`
}

/** How the rounds were led in, naming the scenarios that had none (`roundWarmupFor`). */
function leadIn(seconds: number | undefined, results: readonly { scenario: Scenario }[]): string {
  if (!seconds) return ''
  const without = results
    .filter(({ scenario }) => roundWarmupFor(scenario, seconds) === 0)
    .map(({ scenario }) => scenario.name)
  return `, each after ${seconds} s of unmeasured load${without.length > 0 ? ` (not ${without.join(', ')})` : ''}`
}

/**
 * The median of per-round ratios: rounds are interleaved, so round i of two targets ran under the
 * same machine load, and their ratio is steadier than the ratio of the two medians.
 */
function pairedRatio(
  numerator: TargetSummary | undefined,
  denominator: TargetSummary | undefined,
  pick: (measurement: Measurement) => number,
): number {
  return median(roundRatios(numerator, denominator, pick))
}

/** Each round's ratio of `numerator` to `denominator`, the finite ones. */
function roundRatios(
  numerator: TargetSummary | undefined,
  denominator: TargetSummary | undefined,
  pick: (measurement: Measurement) => number,
): number[] {
  if (numerator === undefined || denominator === undefined) return []
  return numerator.rounds
    .map((round, index) => {
      const other = denominator.rounds[index]
      return other === undefined ? Number.NaN : pick(round) / pick(other)
    })
    .filter(Number.isFinite)
}

const pickRps = (measurement: Measurement) => measurement.rps
const pickCpu = (measurement: Measurement) => measurement.cpuUsPerRequest

interface Row {
  target: TargetName
  rps: number
  p50: number
  p99: number
  cpu: number
  errors: number
  peakRss: number
  hopCpu: number
  mockCpu: number
  redisCpu: number
  steal: number
  perRound: number[]
}

function summarise(summary: TargetSummary): Row {
  const rounds = summary.rounds
  return {
    target: summary.target,
    rps: median(rounds.map((round) => round.rps)),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    cpu: median(rounds.map((round) => round.cpuUsPerRequest)),
    errors: rounds.reduce((sum, round) => sum + (Number.isNaN(round.errors) ? 1 : round.errors), 0),
    peakRss: summary.peakRss,
    hopCpu: median(rounds.map((round) => round.hopCpuPercent)),
    mockCpu: median(rounds.map((round) => round.mockCpuPercent)),
    redisCpu: median(rounds.map((round) => round.redisCpuUsPerRequest ?? Number.NaN)),
    steal: Math.max(0, ...rounds.map((round) => round.stealPercent)),
    perRound: rounds.map((round) => round.rps),
  }
}

const fixed = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '–')

export function renderReport(input: {
  machine: Machine
  features: Record<string, string>
  notes: string[]
  results: ScenarioResult[]
  idleRss: Partial<Record<TargetName, number>>
  rounds: number
  seconds: number
  /** Unmeasured load before each measured round (paced scenarios have none). */
  roundWarmupSeconds?: number | undefined
}): string {
  const { machine } = input
  const lines: string[] = []
  lines.push(
    `Machine: ${machine.cpu}, ${machine.cores} cores (nproc), Node ${machine.node}, commit ${machine.commit}, ${machine.date}.`,
    `Pinning: ${machine.pinning}; Switchyard workers: ${machine.workers}${machine.nodeOptions ? `, node options \`${machine.nodeOptions}\`` : ''}. ${input.rounds} interleaved rounds${leadIn(input.roundWarmupSeconds, input.results)}, median shown.`,
    `Load before: \`${machine.loadBefore}\`; after: \`${machine.loadAfter}\`.`,
    '',
    `Features on in \`switchyard\`: ${Object.entries(input.features)
      .map(([feature, state]) => `${feature} ${state}`)
      .join(
        '; ',
      )}. \`switchyard-bare\` has the key only: no limits, and its usage log off (\`store: { usage_log: { enabled: false } }\`). \`switchyard-redis\` is \`switchyard\` with its limit counters in Redis (\`redis: { url }\`), as replicas share them.`,
    '',
  )
  for (const note of input.notes) lines.push(`- ${note}`)
  if (input.notes.length > 0) lines.push('')

  const rowsByScenario = new Map<string, Row[]>()
  const summaries = new Map<string, TargetSummary>()
  for (const result of input.results) {
    const rows = result.targets.map(summarise)
    rowsByScenario.set(result.scenario.name, rows)
    for (const summary of result.targets)
      summaries.set(`${result.scenario.name}|${summary.target}`, summary)
    const summaryOf = (target: TargetName) => summaries.get(`${result.scenario.name}|${target}`)
    const direct = rows.find((row) => row.target === 'direct')
    const probe = result.scenario.tool === 'probe'
    lines.push(`### ${result.scenario.name}: ${result.scenario.label}`, '')
    lines.push(
      probe
        ? '| target | first chunk p50 ms | p99 ms | added p50 | added p99 | CPU µs/req | errors |'
        : '| target | req/s | per round | p50 ms | p99 ms | added p50 | added p99 | CPU µs/req | peak RSS MiB | errors | req/s vs direct | req/s vs proxy | CPU vs proxy |',
    )
    lines.push(
      probe
        ? '|---|---|---|---|---|---|---|'
        : '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    )
    for (const row of rows) {
      const added = (value: number, base: number | undefined) =>
        row.target === 'direct' || base === undefined ? '–' : fixed(value - base, 2)
      if (probe) {
        lines.push(
          `| ${row.target} | ${fixed(row.p50, 3)} | ${fixed(row.p99, 3)} | ${added(row.p50, direct?.p50)} | ${added(row.p99, direct?.p99)} | ${fixed(row.cpu, 0)} | ${row.errors} |`,
        )
        continue
      }
      lines.push(
        `| ${row.target} | ${fixed(row.rps, 0)} | ${row.perRound.map((value) => fixed(value, 0)).join(' / ')} | ${fixed(row.p50, 2)} | ${fixed(row.p99, 2)} | ${added(row.p50, direct?.p50)} | ${added(row.p99, direct?.p99)} | ${fixed(row.cpu, 1)} | ${fixed(row.peakRss, 0)} | ${row.errors} | ${times(pairedRatio(summaryOf(row.target), summaryOf('direct'), pickRps))} | ${times(pairedRatio(summaryOf(row.target), summaryOf('proxy'), pickRps))} | ${row.target === 'direct' ? '–' : times(pairedRatio(summaryOf(row.target), summaryOf('proxy'), pickCpu))} |`,
      )
    }
    const busiest = rows.map(
      (row) => `${row.target} hop ${fixed(row.hopCpu, 0)}% / upstream ${fixed(row.mockCpu, 0)}%`,
    )
    lines.push(
      '',
      `CPU busy (hop process / upstream process): ${busiest.join('; ')}. Worst steal ${fixed(Math.max(...rows.map((row) => row.steal)), 1)}%.`,
      '',
    )
    for (const row of rows) {
      if (!Number.isFinite(row.redisCpu)) continue
      lines.push(
        `Redis's own CPU per request for ${row.target}: ${fixed(row.redisCpu, 1)} µs (not in its CPU µs/req above).`,
        '',
      )
    }
  }

  lines.push(
    '### memory',
    '',
    `Idle RSS after start (MiB): ${Object.entries(input.idleRss)
      .map(
        ([target, rss]) =>
          `${target === 'direct' ? 'upstream' : target} ${fixed(rss ?? Number.NaN, 1)}`,
      )
      .join(', ')}.`,
    '',
  )
  lines.push('### targets', '', '| target | goal | measured | met |', '|---|---|---|---|')
  const row = (scenario: string, target: TargetName) =>
    rowsByScenario.get(scenario)?.find((entry) => entry.target === target)
  const check = (
    goal: string,
    measured: number | undefined,
    render: (value: number) => string,
    met: (value: number) => boolean,
    what: string,
  ) => {
    if (measured === undefined || !Number.isFinite(measured)) {
      lines.push(`| ${what} | ${goal} | not measured | – |`)
      return
    }
    lines.push(`| ${what} | ${goal} | ${render(measured)} | ${met(measured) ? 'yes' : 'NO'} |`)
  }
  const summary = (scenario: string, target: TargetName) => summaries.get(`${scenario}|${target}`)
  /**
   * A ratio target, judged by the median of the rounds' ratios, with their range and how many
   * rounds alone would have met it: on a noisy host one run's verdict can hang on a round or two.
   */
  const checkRatio = (
    goal: string,
    scenario: string,
    base: TargetName,
    pick: (measurement: Measurement) => number,
    met: (value: number) => boolean,
    what: string,
  ) => {
    const ratios = roundRatios(summary(scenario, 'switchyard'), summary(scenario, base), pick)
    if (ratios.length === 0) {
      lines.push(`| ${what} | ${goal} | not measured | – |`)
      return
    }
    const value = median(ratios)
    const range = `rounds ${ratioRange(ratios)}`
    const meeting = ratios.filter(met).length
    const verdict = met(value)
      ? meeting === ratios.length
        ? 'yes'
        : `yes (${ratios.length - meeting} of ${ratios.length} rounds not)`
      : meeting === 0
        ? 'NO'
        : `NO (${meeting} of ${ratios.length} rounds met it)`
    lines.push(`| ${what} | ${goal} | ${times(value)} (${range}) | ${verdict} |`)
  }
  checkRatio(
    '≤ 1.5x proxy',
    'small',
    'proxy',
    pickCpu,
    (value) => value <= 1.5,
    'unstreamed CPU/request',
  )
  checkRatio(
    '≥ 0.7x proxy',
    'small',
    'proxy',
    pickRps,
    (value) => value >= 0.7,
    'unstreamed throughput',
  )
  const latencyGateway = row('latency', 'switchyard')
  const latencyDirect = row('latency', 'direct')
  check(
    '< 1 ms',
    latencyGateway && latencyDirect ? latencyGateway.p99 - latencyDirect.p99 : undefined,
    (value) => `${value.toFixed(2)} ms`,
    (value) => value < 1,
    'added p99, 1 connection',
  )
  const firstGateway = row('first-chunk', 'switchyard')
  const firstDirect = row('first-chunk', 'direct')
  check(
    '< 0.3 ms',
    firstGateway && firstDirect ? firstGateway.p50 - firstDirect.p50 : undefined,
    (value) => `${value.toFixed(3)} ms`,
    (value) => value < 0.3,
    'added time to first chunk p50',
  )
  checkRatio(
    '≥ 0.8x proxy',
    'stream',
    'proxy',
    pickRps,
    (value) => value >= 0.8,
    'streamed throughput',
  )
  checkRatio(
    '≤ 2x proxy',
    'translated-stream',
    'proxy',
    pickCpu,
    (value) => value <= 2,
    'translated stream CPU/request',
  )
  const many = row('streams-1000', 'switchyard')
  check('0', many?.errors, String, (value) => value === 0, '1,000 streams: errors')
  // The issue's 250 MB, in the MiB that /proc reports.
  const streamsRssLimit = 250e6 / 2 ** 20
  check(
    `< 250 MB (${streamsRssLimit.toFixed(1)} MiB)`,
    many?.peakRss,
    (value) => `${value.toFixed(1)} MiB`,
    (value) => value < streamsRssLimit,
    '1,000 streams: peak RSS',
  )
  check(
    '< 80 MiB',
    input.idleRss.switchyard,
    (value) => `${value.toFixed(0)} MiB`,
    (value) => value < 80,
    'idle RSS',
  )
  for (const scenario of ['small', 'stream']) {
    checkRatio(
      '≤ 1.15x',
      scenario,
      'switchyard-bare',
      pickCpu,
      (value) => value <= 1.15,
      `features on vs off, CPU/request (${scenario})`,
    )
  }
  lines.push('')
  return lines.join('\n')
}
