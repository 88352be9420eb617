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

const flag = '--heap-growing-percent'
export const defaultHeapGrowingPercent = 50

export function tuneHeap(execArgv: readonly string[], nodeOptions: string | undefined): void {
  if (execArgv.some((argument) => argument.startsWith(flag))) return
  if (nodeOptions?.includes(flag)) return
  setFlagsFromString(`${flag}=${defaultHeapGrowingPercent}`)
}
