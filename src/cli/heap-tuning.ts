/**
 * V8 heap tuning for the serving process. Under sustained load V8 lets the old generation grow up
 * to four times what survived the last full collection before collecting again; a gateway's
 * garbage is mostly per-request state that lived a few seconds (open streams), so that growth is
 * resident memory spent on dead objects. Capping the growth factor at 1.5 held 1,000 open streams
 * in about 60 MB less, for CPU per request within this machine's noise (docs/performance.md).
 * `--heap-growing-percent` is read at every collection, so setting it at start-up takes effect;
 * a value given in NODE_OPTIONS or on the command line wins.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

const flag = '--heap-growing-percent'
export const defaultHeapGrowingPercent = 50

export function tuneHeap(execArgv: readonly string[], nodeOptions: string | undefined): void {
  if (execArgv.some((argument) => argument.startsWith(flag))) return
  if (nodeOptions?.includes(flag)) return
  setFlagsFromString(`${flag}=${defaultHeapGrowingPercent}`)
}

interface GcOptions {
  type: 'major'
  execution: 'sync'
  flavor: 'last-resort'
}

/**
 * Gives back what start-up used and no longer needs: parsing the config, compiling the schemas and
 * loading the modules grow V8's young generation to about 10 MB and leave garbage in the old one,
 * and an idle process keeps all of it resident until load comes. One last-resort collection (the
 * one V8 runs under memory pressure: every generation collected and the young one shrunk) takes
 * an idle gateway from about 95 to 81 MB; the young generation grows back as load needs it.
 * V8 exposes that collection only through `gc`, so the flag is on just long enough to fetch the
 * function into a throwaway context: the gateway's own global never gets a `gc`.
 */
export function releaseStartupMemory(): void {
  setFlagsFromString('--expose-gc')
  try {
    const collect = runInNewContext('gc') as (options: GcOptions) => void
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
}
