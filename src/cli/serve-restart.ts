/**
 * Two settings of the serving process that take effect only when a process starts, so `serve`
 * starts itself again with them, in place (`execve`: same process id, same stdio), before it loads
 * anything. What the user already set is kept; where `process.execve` is missing (Windows),
 * nothing changes.
 *
 * - V8's young-generation limit. V8 sizes each of its two semi-spaces from the machine's memory:
 *   up to 32 MB on a large host, and a gateway holding many open streams touches all of it. With
 *   16 MB semi-spaces 1,000 streams peaked about 30 MB lower, and small unstreamed requests cost
 *   no more CPU.
 * - glibc's malloc arenas (Linux). Every thread that calls malloc gets an arena of its own, up to
 *   eight per core: V8's four compiler and collector helpers, libuv's pool, the SQLite writer. Each
 *   arena keeps what its thread once needed (an optimising compile's memory, mostly), 6-8 MB apiece
 *   after a few seconds of load. `MALLOC_ARENA_MAX=2` shares two among them: 1,000 streams after
 *   other load peaked about 20 MB lower, at the same CPU per request. Other C libraries ignore it.
 *
 * Both measured in docs/performance.md.
 */
const semiSpaceFlag = '--max-semi-space-size'
const defaultSemiSpaceMb = 16
const arenaVariable = 'MALLOC_ARENA_MAX'
const defaultMallocArenas = 2

export interface Restart {
  /** Node's own arguments for the new process. */
  execArgv: string[]
  env: Record<string, string | undefined>
}

/** What to start again with, or undefined when this process should just go on. */
export function serveRestart(
  command: string | undefined,
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  platform: string,
): Restart | undefined {
  if (command !== 'serve') return undefined
  const hasSemiSpace =
    execArgv.some((argument) => argument.startsWith(semiSpaceFlag)) ||
    env.NODE_OPTIONS?.includes(semiSpaceFlag) === true
  const setsArenas = platform === 'linux' && env[arenaVariable] === undefined
  if (hasSemiSpace && !setsArenas) return undefined
  return {
    execArgv: hasSemiSpace
      ? [...execArgv]
      : [`${semiSpaceFlag}=${defaultSemiSpaceMb}`, ...execArgv],
    env: setsArenas ? { ...env, [arenaVariable]: String(defaultMallocArenas) } : { ...env },
  }
}

/** Starts this process again when it lacks a setting; returns only if it did not. */
export function restartTuned(): void {
  const restart = serveRestart(process.argv[2], process.execArgv, process.env, process.platform)
  if (restart === undefined || typeof process.execve !== 'function') return
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...restart.execArgv, ...process.argv.slice(1)],
      restart.env,
    )
  } catch (error) {
    // execve(2) failed and this process is unchanged: serve with V8's and glibc's defaults.
    const reason = error instanceof Error ? error.message : String(error)
    process.stderr.write(`switchyard: could not restart with tuned memory settings (${reason})\n`)
  }
}
