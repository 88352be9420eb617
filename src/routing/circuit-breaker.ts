/**
 * Circuit breakers, one per target (provider + upstream model). After `failureThreshold` failures
 * in a row a target is open: skipped for `cooldownMs`. Then it is half-open: exactly one request
 * probes it; success closes it, failure opens it for another cool-down. The clock is a parameter.
 */
export type BreakerState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  failureThreshold: number
  cooldownMs: number
  now: () => number
}

interface Entry {
  failures: number
  /** When it last opened; undefined while closed. */
  openedAt: number | undefined
  /** A half-open probe is under way. */
  probing: boolean
}

export interface CircuitBreakers {
  state(key: string): BreakerState
  /** Would take a request now (closed, or half-open with no probe under way). */
  isAvailable(key: string): boolean
  /** Takes the slot for one attempt: false when open (or half-open and already probing). */
  acquire(key: string): boolean
  succeed(key: string): void
  fail(key: string): void
  /** The attempt ended without a verdict (the client left): frees a half-open probe. */
  release(key: string): void
}

export function createCircuitBreakers(options: CircuitBreakerOptions): CircuitBreakers {
  const entries = new Map<string, Entry>()

  function state(entry: Entry | undefined): BreakerState {
    if (entry?.openedAt === undefined) return 'closed'
    return options.now() - entry.openedAt >= options.cooldownMs ? 'half-open' : 'open'
  }

  return {
    state: (key) => state(entries.get(key)),
    isAvailable(key) {
      const entry = entries.get(key)
      const current = state(entry)
      return current === 'closed' || (current === 'half-open' && !entry?.probing)
    },
    acquire(key) {
      const entry = entries.get(key)
      const current = state(entry)
      if (current === 'closed') return true
      if (current === 'open' || entry === undefined || entry.probing) return false
      entry.probing = true
      return true
    },
    succeed(key) {
      // Closed targets that never failed keep no entry: the map holds only troubled targets.
      entries.delete(key)
    },
    fail(key) {
      let entry = entries.get(key)
      if (entry === undefined) {
        entry = { failures: 0, openedAt: undefined, probing: false }
        entries.set(key, entry)
      }
      entry.failures++
      if (entry.probing || entry.failures >= options.failureThreshold) {
        entry.openedAt = options.now()
      }
      entry.probing = false
    },
    release(key) {
      const entry = entries.get(key)
      if (entry !== undefined) entry.probing = false
    },
  }
}
