/** A stored key as the admin API and `switchyard keys --json` show it: never its secret. */
import type { StoredKey } from '../store/key-repository.ts'
import type { KeyBudget, KeyLimits } from './key-shape.ts'

export interface KeyView {
  id: string
  object: 'api_key'
  name: string
  /** The first characters of the secret, to tell keys apart. */
  prefix: string
  models: string[]
  limits: KeyLimits | null
  budget: KeyBudget | null
  expires_at: string | null
  labels: Record<string, string>
  created_at: string
  updated_at: string
  revoked_at: string | null
}

export function keyView(key: StoredKey): KeyView {
  return {
    id: key.id,
    object: 'api_key',
    name: key.name,
    prefix: key.prefix,
    models: key.models,
    limits: key.limits ?? null,
    budget: key.budget ?? null,
    expires_at: isoOrNull(key.expiresAt),
    labels: key.labels ?? {},
    created_at: new Date(key.createdAt).toISOString(),
    updated_at: new Date(key.updatedAt).toISOString(),
    revoked_at: isoOrNull(key.revokedAt),
  }
}

function isoOrNull(time: number | undefined): string | null {
  return time === undefined ? null : new Date(time).toISOString()
}
