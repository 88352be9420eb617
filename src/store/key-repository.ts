/**
 * Stored API keys. A key's secret is never stored: only its SHA-256 digest (the lookup column)
 * and a short prefix. Revoking keeps the row (usage still names it) and hides it from lookups.
 */

import type { KeyCreateInput, KeyPatchInput } from '../auth/key-input.ts'
import { newKeySecret } from '../auth/key-secret.ts'
import type { KeyBudget, KeyLimits } from '../auth/key-shape.ts'
import { randomBytes } from '../core/builtins.ts'
import type { PageCursor } from './page-cursor.ts'
import {
  numberColumn,
  optionalNumberColumn,
  type SqlDriver,
  type SqlRow,
  type SqlValue,
  textColumn,
} from './sql-driver.ts'

export interface StoredKey {
  id: string
  name: string
  /** The first characters of the secret, to tell keys apart. */
  prefix: string
  models: string[]
  limits: KeyLimits | undefined
  budget: KeyBudget | undefined
  /** Epoch milliseconds. */
  expiresAt: number | undefined
  labels: Record<string, string> | undefined
  createdAt: number
  updatedAt: number
  revokedAt: number | undefined
}

export interface KeyPage {
  keys: StoredKey[]
  /** Where this page ended; undefined on the last page. */
  next: PageCursor | undefined
}

export interface KeyRepository {
  /** Resolves to the stored key and its secret, which is never available again. */
  create(input: KeyCreateInput): Promise<{ key: StoredKey; secret: string }>
  get(id: string): Promise<StoredKey | undefined>
  /** Oldest first, from where the previous page ended. */
  list(options: {
    limit: number
    after?: PageCursor | undefined
    includeRevoked?: boolean | undefined
  }): Promise<KeyPage>
  update(id: string, patch: KeyPatchInput): Promise<StoredKey | undefined>
  /** Revokes once; revoking again returns the key unchanged. */
  revoke(id: string): Promise<StoredKey | undefined>
  /** A key that is not revoked, by the hex SHA-256 digest of its secret. */
  findActive(secretHash: string): Promise<StoredKey | undefined>
}

export interface KeyRepositoryOptions {
  now?: () => number
  random?: (size: number) => Buffer
}

const columns =
  'id, name, secret_prefix, models, limits, budget, labels, expires_at, created_at, updated_at, revoked_at'

export function createKeyRepository(
  driver: SqlDriver,
  options: KeyRepositoryOptions = {},
): KeyRepository {
  const now = options.now ?? Date.now
  const random = options.random ?? randomBytes

  const get = async (id: string): Promise<StoredKey | undefined> => {
    const [row] = await driver.all(`SELECT ${columns} FROM api_keys WHERE id = ?`, [id])
    return row === undefined ? undefined : toStoredKey(row)
  }

  return {
    async create(input) {
      const secret = newKeySecret(random)
      const id = `key_${random(10).toString('hex')}`
      const time = now()
      await driver.run(
        `INSERT INTO api_keys (id, name, secret_hash, secret_prefix, models, limits, budget, labels, expires_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          input.name,
          secret.hash,
          secret.prefix,
          JSON.stringify(input.models),
          json(input.limits),
          json(input.budget),
          json(input.labels),
          input.expires_at ? Date.parse(input.expires_at) : null,
          time,
          time,
        ],
      )
      const key = await get(id)
      if (key === undefined) throw new Error(`stored key ${id} vanished after insert`)
      return { key, secret: secret.secret }
    },

    get,

    async list({ limit, after, includeRevoked = false }) {
      const conditions: string[] = []
      const params: SqlValue[] = []
      if (!includeRevoked) conditions.push('revoked_at IS NULL')
      if (after !== undefined) {
        conditions.push('(created_at > ? OR (created_at = ? AND id > ?))')
        params.push(after.time, after.time, after.id)
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''
      const rows = await driver.all(
        `SELECT ${columns} FROM api_keys ${where} ORDER BY created_at, id LIMIT ?`,
        [...params, limit + 1],
      )
      const keys = rows.slice(0, limit).map(toStoredKey)
      const last = keys.at(-1)
      const next: PageCursor | undefined =
        rows.length > limit && last !== undefined
          ? { time: last.createdAt, id: last.id }
          : undefined
      return { keys, next }
    },

    async update(id, patch) {
      const assignments: string[] = []
      const params: SqlValue[] = []
      const set = (column: string, value: SqlValue) => {
        assignments.push(`${column} = ?`)
        params.push(value)
      }
      if (patch.name !== undefined) set('name', patch.name)
      if (patch.models !== undefined) set('models', JSON.stringify(patch.models))
      if (patch.limits !== undefined) set('limits', json(patch.limits))
      if (patch.budget !== undefined) set('budget', json(patch.budget))
      if (patch.labels !== undefined) set('labels', json(patch.labels))
      if (patch.expires_at !== undefined) {
        set('expires_at', patch.expires_at === null ? null : Date.parse(patch.expires_at))
      }
      set('updated_at', now())
      const changed = await driver.run(
        `UPDATE api_keys SET ${assignments.join(', ')} WHERE id = ?`,
        [...params, id],
      )
      return changed === 0 ? undefined : get(id)
    },

    async revoke(id) {
      const time = now()
      await driver.run(
        'UPDATE api_keys SET revoked_at = ?, updated_at = ? WHERE id = ? AND revoked_at IS NULL',
        [time, time, id],
      )
      return get(id)
    },

    async findActive(secretHash) {
      const [row] = await driver.all(
        `SELECT ${columns} FROM api_keys WHERE secret_hash = ? AND revoked_at IS NULL`,
        [secretHash],
      )
      return row === undefined ? undefined : toStoredKey(row)
    },
  }
}

function json(value: object | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

/** Our own JSON columns, written by this file only; a malformed one reads as absent. */
function parseJson<T>(row: SqlRow, column: string): T | undefined {
  const text = textColumn(row, column)
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}

function toStoredKey(row: SqlRow): StoredKey {
  return {
    id: textColumn(row, 'id') ?? '',
    name: textColumn(row, 'name') ?? '',
    prefix: textColumn(row, 'secret_prefix') ?? '',
    models: parseJson<string[]>(row, 'models') ?? [],
    limits: parseJson<KeyLimits>(row, 'limits'),
    budget: parseJson<KeyBudget>(row, 'budget'),
    expiresAt: optionalNumberColumn(row, 'expires_at'),
    labels: parseJson<Record<string, string>>(row, 'labels'),
    createdAt: numberColumn(row, 'created_at'),
    updatedAt: numberColumn(row, 'updated_at'),
    revokedAt: optionalNumberColumn(row, 'revoked_at'),
  }
}
