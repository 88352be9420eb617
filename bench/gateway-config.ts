/**
 * The Switchyard configs the bench runs: one with every per-request feature a user would turn on
 * (a configured key, rate limits, usage logging), the same with its rate-limit counters in Redis,
 * and one with only the key. Features other
 * branches are still building are probed with `switchyard check`: each candidate fragment is kept
 * only when the schema accepts it, and the run prints which features were on.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const benchKey = 'sk-bench-0123456789abcdef'

export interface ConfigPlan {
  full: string
  bare: string
  /** `full` with `redis:` set; undefined when the run has no Redis. */
  redis: string | undefined
  anthropic: boolean
  /** Feature name -> on, or the reason it is off. */
  features: Record<string, string>
}

interface Candidate {
  feature: string
  /** Text added to the config file; `{dir}` is the run's temporary directory. */
  top?: string
  keyFields?: string
}

/**
 * Candidate config fragments for features other helpers are building in parallel. The first
 * accepted fragment of each feature wins; once the schemas are merged, one entry each remains.
 */
const featureCandidates: Candidate[] = [
  // Per-key limits (memory counters; the limits branch adds `redis:` for shared ones).
  { feature: 'limits', keyFields: 'limits: { rpm: 100000000, tpm: 1000000000 }' },
  // The store branch's usage log: batched inserts into SQLite (or PostgreSQL with a postgres URL).
  { feature: 'usage log', top: 'store: { url: "sqlite:{dir}/switchyard.db" }' },
  { feature: 'usage log', top: 'usage_log: { path: "{dir}/usage.jsonl" }' },
]

function render(options: {
  port: number
  mockUrl: string
  /** The gateway's data_dir; each gateway gets its own, so their SQLite files never share locks. */
  dir: string
  anthropic: boolean
  top: string[]
  keyFields: string[]
}): string {
  const keyExtra = options.keyFields.length > 0 ? `, ${options.keyFields.join(', ')}` : ''
  const lines = [
    `server: { host: 127.0.0.1, port: ${options.port}, log_level: info, data_dir: "${options.dir}" }`,
    'auth:',
    '  keys:',
    `    - { name: bench, key: ${benchKey}, models: ["*"]${keyExtra} }`,
    'providers:',
    `  mock: { kind: openai, base_url: "${options.mockUrl}/v1", api_key: sk-upstream-bench }`,
    `  mock-slow: { kind: openai, base_url: "${options.mockUrl}/v1", api_key: sk-upstream-bench, headers: { x-mock-chunk-delay-ms: "20" } }`,
    `  mock-paced: { kind: openai, base_url: "${options.mockUrl}/v1", api_key: sk-upstream-bench, headers: { x-mock-first-chunk-pause-ms: "2" } }`,
  ]
  if (options.anthropic) {
    lines.push(
      `  claude: { kind: anthropic, base_url: "${options.mockUrl}", api_key: sk-ant-bench }`,
    )
  }
  const costs = 'costs: { prompt_tokens: 0.15, completion_tokens: 0.6 }'
  lines.push(
    'models:',
    `  - { id: bench-fast, type: text-generation, ${costs}, route: { provider: mock, model: gpt-4o-mini-2024-07-18 } }`,
    `  - { id: bench-slow, type: text-generation, ${costs}, route: { provider: mock-slow, model: gpt-4o-mini-2024-07-18 } }`,
    `  - { id: bench-paced, type: text-generation, ${costs}, route: { provider: mock-paced, model: gpt-4o-mini-2024-07-18 } }`,
  )
  if (options.anthropic) {
    lines.push(
      `  - { id: bench-claude, type: text-generation, ${costs}, route: { provider: claude, model: claude-sonnet-4-5-20250929 } }`,
    )
  }
  lines.push(...options.top)
  return `${lines.join('\n')}\n`
}

function accepted(cli: string, file: string, text: string): { ok: boolean; detail: string } {
  writeFileSync(file, text)
  const result = spawnSync(process.execPath, [cli, 'check', '--config', file], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  const detail = (result.stderr || result.stdout).trim().split('\n').slice(0, 3).join(' ')
  return { ok: result.status === 0, detail }
}

export function planConfigs(options: {
  cli: string
  dir: string
  mockUrl: string
  fullPort: number
  barePort: number
  /** The Redis the `switchyard-redis` gateway keeps its counters in, and its port. */
  redis?: { url: string; port: number; prefix: string } | undefined
}): ConfigPlan {
  const probe = join(options.dir, 'probe.yaml')
  const fullDir = join(options.dir, 'full')
  const base = { mockUrl: options.mockUrl, dir: fullDir, top: [], keyFields: [] }
  const plain = accepted(options.cli, probe, render({ ...base, port: 0, anthropic: false }))
  if (!plain.ok) throw new Error(`the bench's base config is invalid: ${plain.detail}`)
  const features: Record<string, string> = { auth: 'on (one configured key)' }
  const anthropicCheck = accepted(options.cli, probe, render({ ...base, port: 0, anthropic: true }))
  const anthropic = anthropicCheck.ok
  features['anthropic provider'] = anthropic
    ? 'on'
    : `off: kind anthropic is not registered yet (${anthropicCheck.detail})`

  const top: string[] = []
  const keyFields: string[] = []
  for (const candidate of featureCandidates) {
    if (features[candidate.feature]?.startsWith('on')) continue
    const fragmentTop = candidate.top?.replaceAll('{dir}', fullDir)
    const trial = {
      ...base,
      port: 0,
      anthropic,
      top: fragmentTop === undefined ? top : [...top, fragmentTop],
      keyFields:
        candidate.keyFields === undefined ? keyFields : [...keyFields, candidate.keyFields],
    }
    if (accepted(options.cli, probe, render(trial)).ok) {
      if (fragmentTop !== undefined) top.push(fragmentTop)
      if (candidate.keyFields !== undefined) keyFields.push(candidate.keyFields)
      features[candidate.feature] = `on (${fragmentTop ?? candidate.keyFields})`
    } else {
      features[candidate.feature] ??= 'off: the config schema accepts none of the known forms yet'
    }
  }
  const full = join(options.dir, 'switchyard-full.yaml')
  const bare = join(options.dir, 'switchyard-bare.yaml')
  writeFileSync(full, render({ ...base, port: options.fullPort, anthropic, top, keyFields }))
  writeFileSync(
    bare,
    render({ ...base, dir: join(options.dir, 'bare'), port: options.barePort, anthropic }),
  )
  let redis: string | undefined
  if (options.redis !== undefined) {
    redis = join(options.dir, 'switchyard-redis.yaml')
    const redisTop = [
      ...top.map((line) => line.replaceAll(fullDir, join(options.dir, 'redis'))),
      `redis: { url: "${options.redis.url}" }`,
      `limits: { redis_prefix: "${options.redis.prefix}" }`,
    ]
    const text = render({
      ...base,
      dir: join(options.dir, 'redis'),
      port: options.redis.port,
      anthropic,
      top: redisTop,
      keyFields,
    })
    const check = accepted(options.cli, probe, text)
    if (!check.ok) throw new Error(`the bench's Redis config is invalid: ${check.detail}`)
    writeFileSync(redis, text)
  }
  return { full, bare, redis, anthropic, features }
}
