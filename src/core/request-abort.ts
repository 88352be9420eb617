/**
 * The abort of one client request, and the one way code on its path asks to hear of it.
 *
 * Every upstream call listens for its request's abort while it is in flight. On an `AbortSignal`
 * that is an EventTarget listener, which node validates, wraps and unlinks again: about 6-8k
 * instructions per request added and removed (callgrind), more than the rest of the abort
 * machinery. A `RequestAbort`'s signal keeps a plain list of hooks instead, run right after the
 * signal's own listeners; `whenAborted` uses it when it can and a listener otherwise, so a signal
 * from anywhere else (a timeout's, a test's) still works.
 */

const hooksKey = Symbol('switchyard.abortHooks')

type Hook = () => void

interface HookedSignal extends AbortSignal {
  [hooksKey]?: (Hook | undefined)[]
}

export class RequestAbort extends AbortController {
  readonly #hooks: (Hook | undefined)[] = []

  constructor() {
    super()
    ;(this.signal as HookedSignal)[hooksKey] = this.#hooks
  }

  override abort(reason?: unknown): void {
    if (this.signal.aborted) return
    super.abort(reason)
    const hooks = this.#hooks.splice(0)
    for (const hook of hooks) hook?.()
  }
}

/**
 * Calls `hook` once when `signal` aborts (the caller checks `signal.aborted` first); the function
 * returned unregisters it.
 */
export function whenAborted(signal: AbortSignal, hook: Hook): () => void {
  const hooks = (signal as HookedSignal)[hooksKey]
  if (hooks === undefined) {
    signal.addEventListener('abort', hook, { once: true })
    return () => signal.removeEventListener('abort', hook)
  }
  const slot = hooks.push(hook) - 1
  return () => {
    // A slot emptied, not spliced: the list lives for one request and holds one or two hooks.
    if (hooks[slot] === hook) hooks[slot] = undefined
  }
}
