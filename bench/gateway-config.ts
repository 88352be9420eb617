/**
 * The Switchyard configs the bench runs: `full`, with every per-request feature a user would turn
 * on (a configured key, per-key rate limits, the usage log in SQLite); `redis`, the same with its
 * rate-limit counters in Redis; and `bare`, the key only (no limits, the usage log off), which
 * the features-on-against-off target compares `full` with. Each is checked with `switchyard check`
 * before the run starts.
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
  /** Feature name -> how `full` has it on, for the report. */
  features: Record<string, string>
}

const limits = 'limits: { rpm: 100000000, tpm: 1000000000 }'
const usageLog = (dir: string) => `store: { url: "sqlite:${dir}/switchyard.db" }`

function render(options: {
  port: number
  mockUrl: string
  /** The gateway's data_dir; each gateway gets its own, so their SQLite files never share locks. */
  dir: string
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
    `  claude: { kind: anthropic, base_url: "${options.mockUrl}", api_key: sk-ant-bench }`,
  ]
  const costs = 'costs: { prompt_tokens: 0.15, completion_tokens: 0.6 }'
  lines.push(
    'models:',
    `  - { id: bench-fast, type: text-generation, ${costs}, route: { provider: mock, model: gpt-4o-mini-2024-07-18 } }`,
    `  - { id: bench-slow, type: text-generation, ${costs}, route: { provider: mock-slow, model: gpt-4o-mini-2024-07-18 } }`,
    `  - { id: bench-paced, type: text-generation, ${costs}, route: { provider: mock-paced, model: gpt-4o-mini-2024-07-18 } }`,
    `  - { id: bench-claude, type: text-generation, ${costs}, route: { provider: claude, model: claude-sonnet-4-5-20250929 } }`,
    ...options.top,
  )
  return `${lines.join('\n')}\n`
}

/** Writes the config to `file`, after `switchyard check` accepts it. */
function writeChecked(cli: string, file: string, text: string): void {
  writeFileSync(file, text)
  const result = spawnSync(process.execPath, [cli, 'check', '--config', file], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (result.status !== 0) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(0, 3).join(' ')
    throw new Error(`the bench's config ${file} is invalid: ${detail}`)
  }
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
  const { cli, dir, mockUrl } = options
  const fullDir = join(dir, 'full')
  const full = join(dir, 'switchyard-full.yaml')
  writeChecked(
    cli,
    full,
    render({
      mockUrl,
      dir: fullDir,
      port: options.fullPort,
      top: [usageLog(fullDir)],
      keyFields: [limits],
    }),
  )
  const bare = join(dir, 'switchyard-bare.yaml')
  writeChecked(
    cli,
    bare,
    render({
      mockUrl,
      dir: join(dir, 'bare'),
      port: options.barePort,
      top: ['store: { usage_log: { enabled: false } }'],
      keyFields: [],
    }),
  )
  let redis: string | undefined
  if (options.redis !== undefined) {
    redis = join(dir, 'switchyard-redis.yaml')
    const redisDir = join(dir, 'redis')
    writeChecked(
      cli,
      redis,
      render({
        mockUrl,
        dir: redisDir,
        port: options.redis.port,
        top: [
          usageLog(redisDir),
          `redis: { url: "${options.redis.url}" }`,
          `limits: { redis_prefix: "${options.redis.prefix}" }`,
        ],
        keyFields: [limits],
      }),
    )
  }
  return {
    full,
    bare,
    redis,
    features: {
      auth: 'on (one configured key)',
      limits: `on (${limits})`,
      'usage log': `on (${usageLog(fullDir)})`,
    },
  }
}
