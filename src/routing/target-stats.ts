/**
 * What the load balancer knows about each target: requests in flight (least_busy) and a moving
 * average of the time to first byte (lowest_latency). In memory, per gateway process.
 */
export interface TargetStats {
  inFlight(key: string): number
  /** Milliseconds, or undefined before the first measurement. */
  latency(key: string): number | undefined
  start(key: string): void
  end(key: string): void
  recordLatency(key: string, milliseconds: number): void
}

// Weight of the newest sample: recent enough to notice a slow hour within a few requests.
const smoothing = 0.3

export function createTargetStats(): TargetStats {
  const inFlight = new Map<string, number>()
  const latency = new Map<string, number>()
  return {
    inFlight: (key) => inFlight.get(key) ?? 0,
    latency: (key) => latency.get(key),
    start(key) {
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
    },
    end(key) {
      // A key at zero stays: deleting it and adding it back on the next request made the map
      // shrink and grow once a request. The keys are those `latency` keeps too.
      inFlight.set(key, Math.max(0, (inFlight.get(key) ?? 1) - 1))
    },
    recordLatency(key, milliseconds) {
      const previous = latency.get(key)
      latency.set(
        key,
        previous === undefined ? milliseconds : previous + smoothing * (milliseconds - previous),
      )
    },
  }
}
