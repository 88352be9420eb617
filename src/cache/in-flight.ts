/**
 * Identical requests in flight in one process share one upstream call. While the first request
 * for a cache key (the leader) is being answered, an unstreamed request with the same key waits
 * for the leader's entry instead of calling upstream: a burst of the same prompt, or the moment a
 * popular entry expires, costs one upstream call, not one per client. Streamed requests never
 * wait (their first token would wait for the leader's last one). A leader whose answer fails or
 * is not stored settles with nothing, and its followers call upstream themselves.
 */
export class InFlightAnswers {
  readonly #leaders = new Map<string, Promise<string | undefined>>()

  /**
   * Makes the caller the leader for `key`, unless another request already is. The returned
   * function settles the followers with the entry's text (or nothing); calling it again is a no-op.
   */
  lead(key: string): ((entry: string | undefined) => void) | undefined {
    if (this.#leaders.has(key)) return undefined
    let settle: (entry: string | undefined) => void = () => {}
    const answer = new Promise<string | undefined>((resolve) => {
      settle = resolve
    })
    this.#leaders.set(key, answer)
    return (entry) => {
      if (this.#leaders.get(key) === answer) this.#leaders.delete(key)
      settle(entry)
    }
  }

  /** The entry the leader for `key` will settle with; undefined when no request leads it. */
  follow(key: string): Promise<string | undefined> | undefined {
    return this.#leaders.get(key)
  }
}
