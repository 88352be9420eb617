/**
 * Finds stored keys for authentication, with a short in-memory cache so the hot path does not
 * query the database on every request. Entries (found and not found alike) live `ttlMs`
 * (default 500 ms): a key revoked or created on any replica takes effect everywhere within that
 * time, with no cross-replica messaging. Concurrent lookups of one secret share one query.
 *
 * When the store fails, a key seen in the last `staleMs` is still accepted: the store being down
 * also means no key can be revoked meanwhile. A key never seen gets a 503, not a 401.
 */
import { type ClientKey, createClientKey, type KeyLookup } from '../auth/keys.ts'
import { GatewayError } from '../core/errors.ts'
import type { KeyRepository, StoredKey } from './key-repository.ts'

export interface StoredKeyLookupOptions {
  ttlMs?: number
  staleMs?: number
  /** Bounds memory when many unknown secrets are tried; the oldest entries go first. */
  maxEntries?: number
  now?: () => number
  onError?: (error: unknown) => void
}

interface Entry {
  key: ClientKey | undefined
  fetchedAt: number
}

export function createStoredKeyLookup(
  repository: Pick<KeyRepository, 'findActive'>,
  options: StoredKeyLookupOptions = {},
): KeyLookup {
  const ttlMs = options.ttlMs ?? 500
  const staleMs = options.staleMs ?? 60_000
  const maxEntries = options.maxEntries ?? 10_000
  const now = options.now ?? (() => performance.now())
  const entries = new Map<string, Entry>()
  const pending = new Map<string, Promise<ClientKey | undefined>>()

  async function fetch(hash: string): Promise<ClientKey | undefined> {
    try {
      const stored = await repository.findActive(hash)
      const key = stored === undefined ? undefined : toClientKey(stored)
      entries.delete(hash)
      entries.set(hash, { key, fetchedAt: now() })
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (!oldest.done) entries.delete(oldest.value)
      }
      return key
    } catch (error) {
      options.onError?.(error)
      const stale = entries.get(hash)
      if (stale?.key !== undefined && now() - stale.fetchedAt <= staleMs) return stale.key
      throw new GatewayError('store_unavailable', 'The key store is unavailable; retry shortly', {
        cause: error,
      })
    } finally {
      pending.delete(hash)
    }
  }

  return {
    find(digest) {
      const hash = digest.toString('hex')
      const entry = entries.get(hash)
      if (entry !== undefined && now() - entry.fetchedAt < ttlMs) return entry.key
      let lookup = pending.get(hash)
      if (lookup === undefined) {
        lookup = fetch(hash)
        pending.set(hash, lookup)
      }
      return lookup
    },
  }
}

function toClientKey(stored: StoredKey): ClientKey {
  return createClientKey({
    id: stored.id,
    name: stored.name,
    models: stored.models,
    limits: stored.limits,
    budget: stored.budget,
    expiresAt: stored.expiresAt,
    labels: stored.labels,
  })
}
