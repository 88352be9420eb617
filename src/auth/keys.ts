/**
 * Client API keys. Secrets are kept only as SHA-256 digests; a presented key is hashed and looked
 * up by digest, then compared with timingSafeEqual, so neither the lookup nor the comparison
 * leaks how much of a guess was right.
 */
import { hash, timingSafeEqual } from '../core/builtins.ts'
import { compileGlobs } from '../core/glob.ts'
import type { KeyBudget, KeyLimits } from './key-shape.ts'

export interface ClientKey {
  /** Stable id: `config:<name>` for config-file keys, the store's id for stored keys. */
  id: string
  name: string
  limits: KeyLimits | undefined
  budget: KeyBudget | undefined
  /** Epoch milliseconds, or undefined for a key that does not expire. */
  expiresAt: number | undefined
  labels: Record<string, string> | undefined
  /** True when the key may use the catalog model with this id. */
  allows(modelId: string): boolean
}

export interface KeyRing {
  /** Config-file keys answer at once; a stored key may need a (cached) store lookup. */
  authenticate(secret: string): ClientKey | undefined | Promise<ClientKey | undefined>
}

/** Finds keys kept outside the config file (the store), by the SHA-256 digest of the secret. */
export interface KeyLookup {
  find(digest: Buffer): ClientKey | undefined | Promise<ClientKey | undefined>
}

export interface KeySpec {
  name: string
  key: string
  models: readonly string[]
  limits?: KeyLimits | undefined
  budget?: KeyBudget | undefined
  expires_at?: string | null | undefined
  labels?: Record<string, string> | undefined
}

export function hashSecret(secret: string): Buffer {
  // One-shot hash: no Hash object per request.
  return hash('sha256', secret, 'buffer')
}

/** What a ClientKey is built from, wherever the key is kept. */
export interface ClientKeySpec {
  id: string
  name: string
  models: readonly string[]
  limits: KeyLimits | undefined
  budget: KeyBudget | undefined
  expiresAt: number | undefined
  labels: Record<string, string> | undefined
}

export function createClientKey(spec: ClientKeySpec): ClientKey {
  const allows = compileGlobs(spec.models)
  const cache = new Map<string, boolean>()
  return {
    id: spec.id,
    name: spec.name,
    limits: spec.limits,
    budget: spec.budget,
    expiresAt: spec.expiresAt,
    labels: spec.labels,
    allows(modelId) {
      let allowed = cache.get(modelId)
      if (allowed === undefined) {
        allowed = allows(modelId)
        cache.set(modelId, allowed)
      }
      return allowed
    },
  }
}

/** Presented secrets whose digests are remembered; the map is emptied when it reaches this size. */
const recentDigestLimit = 4096

/** Config-file keys first (in memory), then `stored` when given. */
export function createKeyRing(specs: readonly KeySpec[], stored?: KeyLookup): KeyRing {
  const byDigest = new Map<string, { digest: Buffer; key: ClientKey }>()
  // Hashing was the largest single cost of authenticating a request, and clients present the same
  // few keys over and over: the digests of recently presented secrets are remembered. Only the
  // digest is cached; what it finds (a stored key's revocation, expiry) is still looked up anew.
  const recentDigests = new Map<string, { digest: Buffer; lookup: string }>()
  function digestOf(secret: string): { digest: Buffer; lookup: string } {
    let known = recentDigests.get(secret)
    if (known === undefined) {
      if (recentDigests.size >= recentDigestLimit) recentDigests.clear()
      const digest = hashSecret(secret)
      known = { digest, lookup: digest.toString('base64') }
      recentDigests.set(secret, known)
    }
    return known
  }
  for (const spec of specs) {
    const digest = hashSecret(spec.key)
    byDigest.set(digest.toString('base64'), {
      digest,
      key: createClientKey({
        id: `config:${spec.name}`,
        name: spec.name,
        models: spec.models,
        limits: spec.limits,
        budget: spec.budget,
        expiresAt: spec.expires_at ? Date.parse(spec.expires_at) : undefined,
        labels: spec.labels,
      }),
    })
  }
  return {
    authenticate(secret) {
      const { digest, lookup } = digestOf(secret)
      const found = byDigest.get(lookup)
      if (found !== undefined && timingSafeEqual(found.digest, digest)) return found.key
      return stored?.find(digest)
    },
  }
}
