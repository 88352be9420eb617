/**
 * Starting, pinning, observing and stopping the processes of a bench run. Everything started
 * here is stopped here, by pid; CPU and memory are read from /proc for a process and its children
 * (a gateway with workers is one tree).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'

export interface Started {
  name: string
  child: ChildProcess
  log: string
  exited: boolean
}

const started: Started[] = []

export function hasCommand(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    return true
  } catch (error) {
    return (error as { code?: unknown }).code !== 'ENOENT'
  }
}

/** Starts `file args` with output to `log`, on `cpus` (a taskset list such as `1` or `0,1`). */
export function startProcess(
  name: string,
  file: string,
  args: string[],
  options: {
    log: string
    cwd?: string | undefined
    cpus?: string | undefined
    /** Variables added to this process's environment. */
    env?: Record<string, string> | undefined
  },
): Started {
  const output = openSync(options.log, 'w')
  const command = options.cpus === undefined ? file : 'taskset'
  const argv = options.cpus === undefined ? args : ['-c', options.cpus, file, ...args]
  const child = spawn(command, argv, {
    cwd: options.cwd,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    stdio: ['ignore', output, output],
  })
  closeSync(output)
  const entry: Started = { name, child, log: options.log, exited: false }
  child.once('exit', () => {
    entry.exited = true
  })
  started.push(entry)
  return entry
}

/** SIGTERM to everything this run started, SIGKILL after `graceMs` for what is still alive. */
export async function stopAll(graceMs = 3000): Promise<void> {
  const live = started.filter((entry) => !entry.exited && entry.child.pid !== undefined)
  for (const entry of live) entry.child.kill('SIGTERM')
  const deadline = Date.now() + graceMs
  while (live.some((entry) => !entry.exited) && Date.now() < deadline) await sleep(50)
  for (const entry of live) if (!entry.exited) entry.child.kill('SIGKILL')
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export async function waitForPort(
  port: number,
  timeoutMs: number,
  host = '127.0.0.1',
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host)
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return true
    await sleep(100)
  }
  return false
}

/** The pid and its descendants. taskset execs in place, so the pid is the program's own. */
export function processTree(pid: number): number[] {
  const tree = [pid]
  for (let index = 0; index < tree.length; index++) {
    let tasks: string[] = []
    try {
      tasks = readdirSync(`/proc/${tree[index]}/task`)
    } catch {
      continue
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${tree[index]}/task/${task}/children`, 'utf8')
        for (const child of children.split(' ')) if (child.trim() !== '') tree.push(Number(child))
      } catch {}
    }
  }
  return tree
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  } catch {
    return 100
  }
})()

/** User plus system CPU seconds of the process tree. */
export function cpuSeconds(pid: number): number {
  let ticks = 0
  for (const member of processTree(pid)) ticks += statTicks(`/proc/${member}/stat`)
  return ticks / clockTicks
}

/** User plus system CPU seconds of the process's main thread (its event loop) alone. */
export function mainThreadCpuSeconds(pid: number): number {
  return statTicks(`/proc/${pid}/task/${pid}/stat`) / clockTicks
}

/** utime + stime of a `stat` file, in clock ticks; 0 once the process or thread is gone. */
function statTicks(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return 0
  }
}

/** Resident memory of the process tree, in MiB. */
export function rssMiB(pid: number): number {
  let kib = 0
  for (const member of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${member}/status`, 'utf8')
      kib += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    } catch {}
  }
  return kib / 1024
}

/** The hypervisor's share of all cores between two `coreTicks()` readings, in percent. */
export function stealPercent(before: CoreTicks, after: CoreTicks): number {
  return ((after.steal - before.steal) / Math.max(1, after.all - before.all)) * 100
}

export interface CoreTicks {
  busy: number[]
  total: number[]
  steal: number
  all: number
}

/** Busy and total jiffies per core, and steal over all cores. */
export function coreTicks(): CoreTicks {
  const busy: number[] = []
  const total: number[] = []
  let steal = 0
  let all = 0
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d*)\s+(.*)$/.exec(line)
    if (match === null) continue
    const values = match[2]!.split(/\s+/).map(Number)
    const sum = values.reduce((left, right) => left + right, 0)
    if (match[1] === '') {
      steal = values[7] ?? 0
      all = sum
    } else {
      busy.push(sum - (values[3] ?? 0) - (values[4] ?? 0))
      total.push(sum)
    }
  }
  return { busy, total, steal, all }
}
