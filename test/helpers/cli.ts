/** Runs the real `switchyard` command line in a child process. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const binPath = fileURLToPath(new URL('../../bin/switchyard.ts', import.meta.url))

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [binPath, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 20_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

export interface ServeProcess {
  child: ChildProcess
  url: string
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** Starts `switchyard serve` and resolves once it logged the URL it listens on. */
export async function serve(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [binPath, 'serve', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (data: Buffer) => {
    stderr += data.toString()
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 15_000)
    child.stdout!.on('data', (data: Buffer) => {
      stdout += data.toString()
      const match = /listening on (http:\/\/[^"\s]+)/.exec(stdout)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)))
  })
  return { child, url, stdout: () => stdout, stderr: () => stderr, exited }
}
