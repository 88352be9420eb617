/** The config file's schema. Unknown keys and wrong types are errors that name their path. */
import { z } from 'zod'
import { keyShapeFields } from '../auth/key-shape.ts'
import { limitsConfigSchema } from '../limits/config.ts'
import { metricsConfigSchema } from '../metrics/config.ts'
import { providerConfigSchema } from '../providers/registry.ts'
import { modelRouteSchema, routeConfigSchema } from '../routing/config.ts'
import { routeReferenceProblems } from '../routing/reference-problems.ts'
import { imageFetchConfigSchema } from '../upstream/image-fetch-config.ts'

export const modelTypes = [
  'text-generation',
  'image-text-to-text',
  'text-embeddings-inference',
  'automatic-speech-recognition',
  'text-classification',
] as const

const clientKeySchema = z.strictObject({
  ...keyShapeFields,
  key: z.string().min(16, 'a client key needs at least 16 characters'),
})

const modelSchema = z.strictObject({
  id: z.string().min(1),
  type: z.enum(modelTypes),
  aliases: z.array(z.string().min(1)).default([]),
  owned_by: z.string().optional(),
  created: z.number().int().nonnegative().optional(),
  max_context_length: z.number().int().positive().optional(),
  /** Currency units per million tokens. */
  costs: z
    .strictObject({
      prompt_tokens: z.number().nonnegative().default(0),
      completion_tokens: z.number().nonnegative().default(0),
      cached_tokens: z.number().nonnegative().optional(),
    })
    .optional(),
  /** A routing config, or the id of a saved one under `configs:`. */
  route: modelRouteSchema,
})

const routingSchema = z
  .strictObject({
    /** Hosts (globs, `host` or `host:port`) a per-request config may send to as `custom_host`. */
    allowed_custom_hosts: z.array(z.string().min(1)).default([]),
    retry: z
      .strictObject({
        base_delay_ms: z.number().int().nonnegative().default(250),
        max_delay_ms: z.number().int().nonnegative().default(8000),
        /** A longer `retry-after` is not waited for: the route falls back instead. */
        max_retry_after_ms: z.number().int().nonnegative().default(30_000),
      })
      .prefault({}),
    circuit_breaker: z
      .strictObject({
        /** Failures in a row that open a target's breaker. */
        failure_threshold: z.number().int().positive().default(5),
        /** How long an open target is skipped before one probe request. */
        cooldown_ms: z.number().int().positive().default(30_000),
      })
      .prefault({}),
  })
  .prefault({})

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8090),
      /** Largest request body accepted, in bytes. */
      body_limit: z
        .number()
        .int()
        .positive()
        .default(10 * 1024 * 1024),
      /** How long SIGTERM waits for in-flight requests and streams, in milliseconds. */
      shutdown_grace_ms: z.number().int().nonnegative().default(30_000),
      log_level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
      /** Where the gateway keeps its own files (the generated default key). */
      data_dir: z.string().default('./data'),
      /** Downloading image URLs for providers that only take inline images. */
      image_fetch: imageFetchConfigSchema,

      metrics: metricsConfigSchema,
    })
    .prefault({}),
  auth: z
    .strictObject({
      keys: z.array(clientKeySchema).default([]),
      /** Authorises the admin API (`Authorization: Bearer <admin_key>`); unset disables it. */
      admin_key: z.string().min(16, 'the admin key needs at least 16 characters').optional(),
    })
    .prefault({}),
  store: z
    .strictObject({
      /** `sqlite:PATH` or `postgres://…`; default `sqlite:<server.data_dir>/switchyard.db`. */
      url: z
        .string()
        .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected sqlite:PATH or postgres://…')
        .optional(),
      usage_log: z
        .strictObject({
          /**
           * Off, chat requests leave no row (nor its CPU: a tenth or more of a small request's);
           * the admin API still reads what is there, and budgets after a restart count from it.
           */
          enabled: z.boolean().default(true),
          /** Records per multi-row insert. */
          batch_size: z.number().int().min(1).max(1000).default(200),
          /** Longest a record waits before its batch is written, in milliseconds. */
          flush_interval_ms: z.number().int().min(10).default(1000),
          /** Records held while the database is slow or down; newer ones are dropped beyond it. */
          queue_limit: z.number().int().min(1).default(10_000),
        })
        .prefault({}),
    })
    .prefault({}),
  providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), providerConfigSchema).default({}),
  models: z.array(modelSchema).default([]),
  /** Saved routing configs, by id: a model's `route` or a request's `x-switchyard-config` names one. */
  configs: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), routeConfigSchema).default({}),
  routing: routingSchema,

  redis: z.strictObject({ url: z.string().min(1) }).optional(),
  limits: limitsConfigSchema,
  /** Where routes with `cache` keep answers: in Redis when `redis` is set, else in memory. */
  cache: z
    .strictObject({
      /** Seconds an answer is kept when a route's `cache` gives no `max_age`. */
      default_max_age: z.number().int().positive().default(3600),
      /** The in-memory cache's bound, in bytes of answer text; least recently used go first. */
      max_bytes: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** Answers larger than this are not cached, in bytes. */
      max_entry_bytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
      redis_prefix: z.string().default('switchyard:cache:'),
      /** Longest wait for Redis on a lookup, in milliseconds, before it counts as a miss. */
      redis_timeout_ms: z.number().int().positive().default(250),
    })
    .prefault({}),
})

export type Config = z.infer<typeof configSchema>
export type ModelConfig = Config['models'][number]
export type ModelType = (typeof modelTypes)[number]

type Path = (string | number)[]

/**
 * Checks between sections (a route naming a provider, ids unique across aliases). It reads the
 * raw document loosely, so it reports alongside schema errors instead of after they are fixed.
 */
export function referenceProblems(raw: unknown): { path: Path; message: string }[] {
  const problems: { path: Path; message: string }[] = []
  const record = (value: unknown): Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
  const root = record(raw)
  const seen = new Map<string, string>()
  list(root.models).forEach((item, index) => {
    const model = record(item)
    const names: [unknown, Path][] = [
      [model.id, ['models', index, 'id']],
      ...list(model.aliases).map((alias, aliasIndex): [unknown, Path] => [
        alias,
        ['models', index, 'aliases', aliasIndex],
      ]),
    ]
    for (const [name, path] of names) {
      if (typeof name !== 'string') continue
      const previous = seen.get(name)
      if (previous !== undefined)
        problems.push({ path, message: `"${name}" is already used by ${previous}` })
      seen.set(name, `models[${index}]`)
    }
  })
  problems.push(...routeReferenceProblems(root))
  const keyNames = new Set<unknown>()
  list(record(root.auth).keys).forEach((item, index) => {
    const name = record(item).name
    if (keyNames.has(name))
      problems.push({ path: ['auth', 'keys', index, 'name'], message: 'duplicate key name' })
    keyNames.add(name)
  })
  return problems
}
