/**
 * The young generation's size limit for `serve`. V8 sizes each of its two semi-spaces from the
 * machine's memory: up to 32 MB on a large host, and a gateway holding many open streams touches
 * all of it. With 16 MB semi-spaces 1,000 streams peaked about 30 MB lower, and small unstreamed
 * requests cost no more CPU, mostly less (a smaller young generation stays in the caches; both in
 * docs/performance.md). V8 reads
 * the limit only when the process starts, so `serve` starts itself again with the flag, in place
 * (`execve`: same process id, same stdio), before it loads anything. A limit already given on the
 * command line or in NODE_OPTIONS is kept; where `process.execve` is missing (Windows), nothing
 * changes.
 */
const flag = '--max-semi-space-size'
export const defaultSemiSpaceMb = 16

/** The node arguments to start again with, or undefined when this process should just go on. */
export function youngGenerationArgs(
  command: string | undefined,
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] | undefined {
  if (command !== 'serve') return undefined
  if (execArgv.some((argument) => argument.startsWith(flag))) return undefined
  if (nodeOptions?.includes(flag)) return undefined
  return [`${flag}=${defaultSemiSpaceMb}`, ...execArgv]
}

/** Starts this process again with the limit when it lacks one; returns only if it did not. */
export function limitYoungGeneration(): void {
  const execArgs = youngGenerationArgs(process.argv[2], process.execArgv, process.env.NODE_OPTIONS)
  if (execArgs === undefined || typeof process.execve !== 'function') return
  try {
    process.execve(process.execPath, [process.execPath, ...execArgs, ...process.argv.slice(1)])
  } catch (error) {
    // execve(2) failed and this process is unchanged: serve with V8's own sizing.
    const reason = error instanceof Error ? error.message : String(error)
    process.stderr.write(`switchyard: could not restart with --max-semi-space-size (${reason})\n`)
  }
}
