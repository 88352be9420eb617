/**
 * How long to wait before a retry: exponential backoff with full jitter (a random wait between 0
 * and `base * 2^retry`, capped), unless the upstream said how long with `retry-after`.
 */
export interface BackoffOptions {
  /** Milliseconds; the first retry waits up to this. */
  base: number
  /** Milliseconds; no backoff wait is longer. */
  cap: number
  random: () => number
}

/** `retry` counts from 0 (the first retry). */
export function backoffDelay(retry: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.cap, options.base * 2 ** retry)
  return Math.floor(options.random() * ceiling)
}

export interface RetryDelayOptions extends BackoffOptions {
  /** Milliseconds; an upstream asking for a longer wait is not retried (we fall back instead). */
  maxRetryAfter: number
  useRetryAfter: boolean
}

/** The wait before retry number `retry`, or undefined when the upstream asks for too long. */
export function retryDelay(
  retry: number,
  retryAfterSeconds: number | undefined,
  options: RetryDelayOptions,
): number | undefined {
  if (!options.useRetryAfter || retryAfterSeconds === undefined) {
    return backoffDelay(retry, options)
  }
  const milliseconds = Math.ceil(retryAfterSeconds * 1000)
  return milliseconds > options.maxRetryAfter ? undefined : milliseconds
}
