/**
 * `switchyard keys create|list|show|update|revoke`: the admin API's key operations, straight on
 * the store that `serve` uses (found through the same config). The secret is printed once, by
 * `create`.
 */

import {
  firstProblem,
  type KeyCreateInput,
  type KeyPatchInput,
  keyCreateSchema,
  keyPatchSchema,
} from '../auth/key-input.ts'
import { type KeyView, keyView } from '../auth/key-view.ts'
import { ConfigError, loadConfig, resolveConfigPath } from '../config/load.ts'
import { parseArgs } from '../core/builtins.ts'
import type { KeyRepository, StoredKey } from '../store/key-repository.ts'
import { openStore, storeUrl } from '../store/open-store.ts'

export const keysUsage = `  switchyard keys create --name NAME [--models a,b] [--rpm N] [--tpm N]
                         [--max-spend X --period day|month] [--expires-at ISO] [--label k=v]...
  switchyard keys list [--all]
  switchyard keys show ID
  switchyard keys update ID [the create flags] [--no-expiry] [--no-limits] [--no-budget]
  switchyard keys revoke ID
  (every keys command takes --config FILE and --json)
`

const options = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  models: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'max-spend': { type: 'string' },
  period: { type: 'string' },
  'expires-at': { type: 'string' },
  label: { type: 'string', multiple: true },
  'no-expiry': { type: 'boolean' },
  'no-limits': { type: 'boolean' },
  'no-budget': { type: 'boolean' },
  all: { type: 'boolean' },
} as const

type Values = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>['values']

class UsageError extends Error {}

export async function keysCommand(args: string[]): Promise<number> {
  let parsed: { values: Values; positionals: string[] }
  try {
    parsed = parseArgs({ args, options, allowPositionals: true })
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\nUsage:\n${keysUsage}`)
    return 2
  }
  const { values, positionals } = parsed
  const [action, id, ...extra] = positionals
  const needsId = action === 'show' || action === 'update' || action === 'revoke'
  if (
    !['create', 'list', 'show', 'update', 'revoke'].includes(action ?? '') ||
    (needsId && id === undefined) ||
    (!needsId && id !== undefined) ||
    extra.length > 0
  ) {
    process.stderr.write(`Usage:\n${keysUsage}`)
    return 2
  }
  let url: string
  // Flags are checked before the store is opened: a typo must not create a database.
  let input: KeyCreateInput | undefined
  let patch: KeyPatchInput | undefined
  try {
    if (action === 'create') input = parseCreate(values)
    if (action === 'update') patch = parsePatch(values)
    url = storeUrl(loadConfig(resolveConfigPath(values.config)).config)
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof ConfigError)) throw error
    process.stderr.write(`${error.message}\n`)
    return 2
  }
  const store = await openStore(url)
  try {
    const keys = store.keys
    if (input !== undefined) return await create(keys, input, values)
    if (patch !== undefined) return show(await keys.update(id!, patch), id!, values)
    if (action === 'list') return await list(keys, values)
    if (action === 'show') return show(await keys.get(id!), id!, values)
    return show(await keys.revoke(id!), id!, values)
  } finally {
    await store.close()
  }
}

function parseCreate(values: Values): KeyCreateInput {
  const parsed = keyCreateSchema.safeParse(shapeFromFlags(values))
  if (!parsed.success) throw new UsageError(flagProblem(parsed.error))
  return parsed.data
}

async function create(keys: KeyRepository, input: KeyCreateInput, values: Values): Promise<number> {
  const { key, secret } = await keys.create(input)
  if (values.json) {
    print({ ...keyView(key), key: secret })
  } else {
    process.stdout.write(
      `${describe(keyView(key))}\n\nSecret (shown only now; keep it somewhere safe):\n\n    ${secret}\n\n`,
    )
  }
  return 0
}

async function list(keys: KeyRepository, values: Values): Promise<number> {
  const views: KeyView[] = []
  let after: Parameters<KeyRepository['list']>[0]['after']
  // Bounded: a million keys at 500 per page.
  for (let page = 0; page < 2_000; page++) {
    const result = await keys.list({ limit: 500, after, includeRevoked: values.all === true })
    views.push(...result.keys.map(keyView))
    if (result.next === undefined) break
    after = result.next
  }
  if (values.json) print({ object: 'list', data: views })
  else if (views.length === 0) process.stdout.write('No stored keys.\n')
  else process.stdout.write(`${views.map(describe).join('\n')}\n`)
  return 0
}

function show(key: StoredKey | undefined, id: string, values: Values): number {
  if (key === undefined) {
    process.stderr.write(`No key with id ${id}\n`)
    return 1
  }
  if (values.json) print(keyView(key))
  else process.stdout.write(`${describe(keyView(key))}\n`)
  return 0
}

function parsePatch(values: Values): KeyPatchInput {
  const patch: Record<string, unknown> = shapeFromFlags(values)
  if (values['no-expiry']) patch.expires_at = null
  if (values['no-limits']) patch.limits = null
  if (values['no-budget']) patch.budget = null
  if (Object.keys(patch).length === 0) throw new UsageError('update: give at least one change')
  const parsed = keyPatchSchema.safeParse(patch)
  if (!parsed.success) throw new UsageError(flagProblem(parsed.error))
  return parsed.data
}

/** The key shape from flags; the schema then validates it exactly as the admin API does. */
function shapeFromFlags(values: Values): Record<string, unknown> {
  const shape: Record<string, unknown> = {}
  if (values.name !== undefined) shape.name = values.name
  if (values.models !== undefined) {
    shape.models = values.models
      .split(',')
      .map((model) => model.trim())
      .filter(Boolean)
  }
  const limits: Record<string, unknown> = {}
  if (values.rpm !== undefined) limits.rpm = numberFlag('rpm', values.rpm)
  if (values.tpm !== undefined) limits.tpm = numberFlag('tpm', values.tpm)
  if (Object.keys(limits).length > 0) shape.limits = limits
  if (values['max-spend'] !== undefined || values.period !== undefined) {
    shape.budget = {
      max_spend:
        values['max-spend'] === undefined
          ? undefined
          : numberFlag('max-spend', values['max-spend']),
      period: values.period,
    }
  }
  if (values['expires-at'] !== undefined) shape.expires_at = values['expires-at']
  if (values.label !== undefined) {
    const labels: Record<string, string> = {}
    for (const label of values.label) {
      const at = label.indexOf('=')
      if (at <= 0) throw new UsageError(`--label ${label}: expected key=value`)
      labels[label.slice(0, at)] = label.slice(at + 1)
    }
    shape.labels = labels
  }
  return shape
}

function numberFlag(name: string, text: string): number {
  const value = Number(text)
  if (text.trim() === '' || Number.isNaN(value)) throw new UsageError(`--${name} must be a number`)
  return value
}

const flagNames: Record<string, string> = {
  'limits.rpm': '--rpm',
  'limits.tpm': '--tpm',
  'budget.max_spend': '--max-spend',
  'budget.period': '--period',
  expires_at: '--expires-at',
  models: '--models',
  name: '--name',
}

function flagProblem(error: Parameters<typeof firstProblem>[0]): string {
  const problem = firstProblem(error)
  const flag = flagNames[problem.param] ?? (problem.param.startsWith('labels') ? '--label' : '')
  return flag === '' ? problem.message : `${flag} (${problem.message})`
}

function describe(view: KeyView): string {
  const facts = [
    `models ${view.models.join(',')}`,
    view.limits ? `limits ${JSON.stringify(view.limits)}` : undefined,
    view.budget ? `budget ${view.budget.max_spend}/${view.budget.period}` : undefined,
    view.expires_at ? `expires ${view.expires_at}` : undefined,
    Object.keys(view.labels).length > 0 ? `labels ${JSON.stringify(view.labels)}` : undefined,
    view.revoked_at ? `REVOKED ${view.revoked_at}` : undefined,
  ].filter((fact) => fact !== undefined)
  return `${view.id}  ${view.name}  ${view.prefix}…  ${facts.join('  ')}`
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
