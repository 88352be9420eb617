/** Runs wrk with a Lua script that POSTs a body read from a file and reports as one JSON line. */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface WrkResult {
  requests: number
  durationUs: number
  errors: number
  /** Microseconds. */
  p50: number
  p99: number
  failure?: string
}

const script = `
local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('\\nWRKJSON {"requests":%d,"durationUs":%d,"errors":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`

export function writeWrkScript(directory: string): string {
  const path = join(directory, 'post.lua')
  writeFileSync(path, script)
  return path
}

export interface WrkRun {
  url: string
  headers: string[]
  bodyFile: string
  connections: number
  seconds: number
  timeoutSeconds: number
  scriptPath: string
  cpus: string | undefined
}

export function runWrk(run: WrkRun): Promise<WrkResult> {
  const wrkArgs = [
    '-t1',
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    '--timeout',
    `${run.timeoutSeconds}s`,
    '-s',
    run.scriptPath,
  ]
  for (const header of run.headers) wrkArgs.push('-H', header)
  wrkArgs.push(run.url)
  const command = run.cpus === undefined ? 'wrk' : 'taskset'
  const args = run.cpus === undefined ? wrkArgs : ['-c', run.cpus, 'wrk', ...wrkArgs]
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, BENCH_BODY_FILE: run.bodyFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString()
    })
    child.stderr.on('data', (data: Buffer) => {
      output += data.toString()
    })
    // wrk stops itself after -d; this only guards against a hang.
    const guard = setTimeout(
      () => child.kill('SIGKILL'),
      (run.seconds + run.timeoutSeconds + 10) * 1000,
    )
    child.once('close', () => {
      clearTimeout(guard)
      const match = /WRKJSON (\{.*\})/.exec(output)
      if (match === null) {
        resolve({
          requests: 0,
          durationUs: 1,
          errors: Number.NaN,
          p50: 0,
          p99: 0,
          failure: output.slice(-400),
        })
        return
      }
      resolve(JSON.parse(match[1]!) as WrkResult)
    })
  })
}
