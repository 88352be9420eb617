/**
 * What the bench measures: each scenario is one kind of traffic, sent in turn to the upstream
 * directly, through the minimal proxy and through Switchyard, with requests shaped for each.
 */
import { benchKey } from './gateway-config.ts'

export type Pace = 'burst' | 'slow' | 'first-pause'

/** The mock upstream's header for each pace, and the Switchyard model whose provider sends it. */
export const paces: Record<Pace, { header?: string; model: string }> = {
  burst: { model: 'bench-fast' },
  slow: { header: 'x-mock-chunk-delay-ms: 20', model: 'bench-slow' },
  'first-pause': { header: 'x-mock-first-chunk-pause-ms: 2', model: 'bench-paced' },
}

/**
 * `switchyard-redis` is `switchyard` with its rate-limit counters in Redis, as replicas share
 * them: one round trip to Redis per admission.
 */
export type TargetName = 'direct' | 'proxy' | 'switchyard' | 'switchyard-bare' | 'switchyard-redis'

export interface Scenario {
  name: string
  label: string
  /** wrk for throughput and latency; the probe for time to first chunk. */
  tool: 'wrk' | 'probe'
  connections: number
  /** Seconds per measurement; undefined means the run's default. */
  seconds?: number
  stream: boolean
  promptBytes: number
  /** The upstream's wire format; `anthropic` is Switchyard's translated path. */
  upstream: 'openai' | 'anthropic'
  /**
   * How the upstream sends a stream's chunks: `burst` writes them back to back; `slow` 20 ms
   * apart, so streams stay open; `first-pause` pauses 2 ms after the first chunk, as a real model
   * does between tokens, so the client reads its first chunk while the upstream, which shares
   * its core, is idle instead of bursting out the other 99.
   */
  pace: Pace
  targets: TargetName[]
}

const three: TargetName[] = ['direct', 'proxy', 'switchyard']
const four: TargetName[] = ['direct', 'proxy', 'switchyard', 'switchyard-bare']

export const scenarios: Scenario[] = [
  {
    name: 'small',
    label: 'small chat, unstreamed, 32 connections',
    tool: 'wrk',
    connections: 32,
    stream: false,
    promptBytes: 0,
    upstream: 'openai',
    pace: 'burst',
    targets: [...four, 'switchyard-redis'],
  },
  {
    name: 'latency',
    label: 'small chat, unstreamed, 1 connection (added latency)',
    tool: 'wrk',
    connections: 1,
    stream: false,
    promptBytes: 0,
    upstream: 'openai',
    pace: 'burst',
    targets: [...three, 'switchyard-redis'],
  },
  {
    name: 'large',
    label: 'about 50 KB prompt, unstreamed, 32 connections',
    tool: 'wrk',
    connections: 32,
    stream: false,
    promptBytes: 50_000,
    upstream: 'openai',
    pace: 'burst',
    targets: three,
  },
  {
    name: 'stream',
    label: '100-chunk stream, 32 connections',
    tool: 'wrk',
    connections: 32,
    stream: true,
    promptBytes: 0,
    upstream: 'openai',
    pace: 'burst',
    targets: four,
  },
  {
    name: 'first-chunk',
    label: '100-chunk stream, 1 connection, time to first chunk (2 ms pause after it)',
    tool: 'probe',
    connections: 1,
    stream: true,
    promptBytes: 0,
    upstream: 'openai',
    pace: 'first-pause',
    targets: three,
  },
  {
    name: 'streams-1000',
    label: '1,000 concurrent open streams, 100 chunks 20 ms apart',
    tool: 'wrk',
    connections: 1000,
    seconds: 8,
    stream: true,
    promptBytes: 0,
    upstream: 'openai',
    pace: 'slow',
    targets: three,
  },
  {
    name: 'translated-stream',
    label: 'Anthropic upstream, 100-chunk stream, 32 connections',
    tool: 'wrk',
    connections: 32,
    stream: true,
    promptBytes: 0,
    upstream: 'anthropic',
    pace: 'burst',
    targets: three,
  },
  {
    name: 'translated',
    label: 'Anthropic upstream, unstreamed, 32 connections',
    tool: 'wrk',
    connections: 32,
    stream: false,
    promptBytes: 0,
    upstream: 'anthropic',
    pace: 'burst',
    targets: three,
  },
]

export interface TargetRequest {
  path: string
  headers: string[]
  body: string
}

const system = 'You are a helpful assistant.'
const question = 'Write one short sentence about benchmarking HTTP proxies.'

function padding(bytes: number): string {
  if (bytes === 0) return ''
  return ` ${'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes)}`
}

/** The request one target gets in one scenario: the same traffic in the shape it speaks. */
/**
 * Seconds of unmeasured load before each measured round: `seconds`, except for a paced scenario
 * (`slow`), whose streams outlast any lead-in that short.
 */
export function roundWarmupFor(scenario: Scenario, seconds: number): number {
  return scenario.pace === 'slow' ? 0 : seconds
}

export function requestFor(scenario: Scenario, target: TargetName): TargetRequest {
  const viaSwitchyard = target.startsWith('switchyard')
  const pace = paces[scenario.pace]
  const paceHeader = pace.header !== undefined && !viaSwitchyard ? [pace.header] : []
  const content = question + padding(scenario.promptBytes)
  const streamFields = scenario.stream
    ? { stream: true, stream_options: { include_usage: true } }
    : {}
  if (scenario.upstream === 'anthropic' && !viaSwitchyard) {
    return {
      path: '/v1/messages',
      headers: ['x-api-key: sk-ant-bench', 'anthropic-version: 2023-06-01'],
      body: JSON.stringify({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 256,
        system,
        messages: [{ role: 'user', content }],
        ...(scenario.stream ? { stream: true } : {}),
      }),
    }
  }
  const model = scenario.upstream === 'anthropic' ? 'bench-claude' : pace.model
  return {
    path: '/v1/chat/completions',
    headers: [
      `authorization: Bearer ${viaSwitchyard ? benchKey : 'sk-upstream-bench'}`,
      ...paceHeader,
    ],
    body: JSON.stringify({
      model,
      messages: [
        { role: 'system', content: system },
        { role: 'user', content },
      ],
      max_tokens: 256,
      temperature: 0.2,
      ...streamFields,
    }),
  }
}

/**
 * The order of the targets in one round: a Williams design. With an even number of targets the
 * rows of one Latin square do it: over that many rounds each target runs in every position once
 * and right behind every other target once. With an odd number every other round runs its row
 * backwards, which balances both over twice as many rounds. Plain rotation kept every target
 * right behind the same one, and what a process leaves running on the shared core after its run
 * (its log and SQLite writes, V8's idle-time GC) fell on the same neighbour every round.
 */
export function roundOrder<T>(targets: readonly T[], round: number): T[] {
  const count = targets.length
  // 0, 1, n-1, 2, n-2, …: consecutive differences all distinct modulo n.
  const base = targets.map((_, index) =>
    index === 0 ? 0 : index % 2 === 1 ? (index + 1) / 2 : count - index / 2,
  )
  const order = base.map((offset) => targets[(offset + round) % count]!)
  return count % 2 === 1 && round % 2 === 1 ? order.reverse() : order
}
