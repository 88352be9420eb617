/**
 * The hops `bench:ab` compares, one per command-line word: `name=kind[@script][,node-flag…]`.
 * `kind` is `proxy` (the minimal proxy), `full` or `bare` (Switchyard with the main bench's
 * configs). `@path` runs another script: for Switchyard another build's `switchyard.js` (a `git
 * worktree` of the commit to compare with), for `proxy` any script that takes the minimal proxy's
 * `--port` and `--upstream` (bench/minimal-gateway.ts). What follows the commas goes to that
 * process's `node` before the script.
 *
 *   base=bare  candidate=bare@/tmp/other/dist/bin/switchyard.js  small-young=bare,--max-semi-space-size=4
 *   proxy=proxy  floor=proxy@bench/minimal-gateway.ts
 */
export type HopKind = 'proxy' | 'full' | 'bare'

export interface HopSpec {
  name: string
  kind: HopKind
  /** Another script (a Switchyard build's CLI, a proxy); undefined runs this checkout's. */
  script: string | undefined
  nodeFlags: string[]
}

const kinds: readonly string[] = ['proxy', 'full', 'bare'] satisfies HopKind[]

/** The spec a word describes, or an error message saying what is wrong with it. */
export function parseHopSpec(word: string): HopSpec | string {
  const equals = word.indexOf('=')
  if (equals <= 0) return `"${word}": expected name=kind, e.g. base=bare`
  const name = word.slice(0, equals)
  if (!/^[\w.-]+$/.test(name)) return `"${word}": a name is letters, digits, '.', '-' and '_'`
  const [head = '', ...nodeFlags] = word.slice(equals + 1).split(',')
  const at = head.indexOf('@')
  const kind = at === -1 ? head : head.slice(0, at)
  const script = at === -1 ? undefined : head.slice(at + 1)
  if (!kinds.includes(kind)) return `"${word}": the kind is proxy, full or bare (got "${kind}")`
  if (script === '') return `"${word}": @ names a script`
  const stray = nodeFlags.find((flag) => !flag.startsWith('-'))
  if (stray !== undefined) return `"${word}": "${stray}" is not a node flag`
  return { name, kind: kind as HopKind, script, nodeFlags }
}
