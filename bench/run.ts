/**
 * The Switchyard benchmark: starts the fake upstream, the minimal proxy and two gateways (every
 * per-request feature on, and only the key), then measures every scenario against each target in
 * interleaved rounds and prints Markdown tables with the ratios the performance targets use.
 *
 *   npm run bench -- [--rounds 5] [--seconds 3] [--scenarios small,stream,...] [--quick]
 *                    [--warmup-seconds 2] [--settle-seconds 15] [--round-warmup-seconds 1]
 *                    [--workers N] [--pin on|off] [--out FILE.md] [--max-seconds 1200]
 *                    [--switchyard-node-options='--max-semi-space-size=16']
 *                    [--redis-url redis://127.0.0.1:6379]
 *
 * `switchyard-redis` (limits in Redis) runs when Redis answers at --redis-url; its CPU per request
 * is reported with Redis's own beside it (Redis on this machine).
 *
 * Loopback only; every load run is bounded by wrk's duration. See docs/performance.md.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { planConfigs } from './gateway-config.ts'
import {
  coreTicks,
  cpuSeconds,
  hasCommand,
  rssMiB,
  type Started,
  sleep,
  startProcess,
  stealPercent,
  stopAll,
  waitForPort,
} from './processes.ts'
import {
  type Measurement,
  renderReport,
  type ScenarioResult,
  type TargetSummary,
} from './report.ts'
import {
  requestFor,
  roundOrder,
  roundWarmupFor,
  type Scenario,
  scenarios,
  type TargetName,
} from './scenarios.ts'
import { runWrk, writeWrkScript } from './wrk.ts'

const here = fileURLToPath(new URL('.', import.meta.url))
const root = join(here, '..')
// The compiled build (npm run build, run by prebench): what `npm start` runs in production.
const cli = join(root, 'dist/bin/switchyard.js')

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    'warmup-seconds': { type: 'string', default: '2' },
    /**
     * The first warm-up of each target lasts this long: under load V8 keeps optimising either
     * hop's code on its background threads for 10-15 s, which would otherwise be counted in the
     * first rounds (about 20 µs per request on this machine's helper threads at first).
     */
    'settle-seconds': { type: 'string', default: '15' },
    /**
     * Unmeasured load before each measured round. Between its rounds a target sits idle while the
     * others run, and after about 8 s of idle V8's memory reducer collects the heap and discards
     * the compiled code of functions that have not run since (some 2,000 of Switchyard's, its whole
     * request path), so a round would otherwise count the recompiling of whatever hop has the
     * most code. Paced scenarios (streams-1000) skip it: their streams outlast it.
     */
    'round-warmup-seconds': { type: 'string', default: '1' },
    scenarios: { type: 'string' },
    quick: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
    pin: { type: 'string', default: 'on' },
    out: { type: 'string' },
    'max-seconds': { type: 'string', default: '1200' },
    'base-port': { type: 'string', default: '28180' },
    /** Node flags for the Switchyard processes only, e.g. `--max-semi-space-size=16`. */
    'switchyard-node-options': { type: 'string', default: '' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
  },
})
const rounds = values.quick ? 2 : Number(values.rounds)
const seconds = values.quick ? 3 : Number(values.seconds)
const warmupSeconds = Number(values['warmup-seconds'])
const roundWarmupSeconds = Number(values['round-warmup-seconds'])
const settleSeconds = values.quick ? 5 : Number(values['settle-seconds'])
const workers = Number(values.workers)
const basePort = Number(values['base-port'])
const ports = {
  mock: basePort,
  proxy: basePort + 1,
  full: basePort + 10,
  bare: basePort + 11,
  redis: basePort + 12,
}
const redisUrl = new URL(values['redis-url'])
if (!['127.0.0.1', 'localhost', '[::1]'].includes(redisUrl.hostname)) {
  process.stderr.write(`bench: --redis-url must be on loopback, got ${redisUrl.hostname}\n`)
  process.exit(2)
}

if (!hasCommand('wrk', ['--version'])) {
  process.stderr.write(
    'bench: wrk is not installed. Install it with `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`.\n',
  )
  process.exit(2)
}
const coreCount = cpus().length
const pinning = values.pin === 'on' && coreCount >= 2 && hasCommand('taskset', ['-V'])
// wrk and the fake upstream share core 0; the hop under test gets core 1 to itself.
const loadCpus = pinning ? '0' : undefined
const hopCpus = pinning ? (workers > 1 ? '0,1' : '1') : undefined

const selected = values.scenarios?.split(',').map((name) => name.trim())
const plan = scenarios.filter(
  (scenario) => selected === undefined || selected.includes(scenario.name),
)
for (const name of selected ?? []) {
  if (!scenarios.some((scenario) => scenario.name === name)) {
    process.stderr.write(
      `bench: unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(', ')}\n`,
    )
    process.exit(2)
  }
}

const secondsOf = (scenario: Scenario) =>
  scenario.seconds ?? (scenario.connections === 1 ? Math.min(seconds, 4) : seconds)
const roundWarmupOf = (scenario: Scenario) => roundWarmupFor(scenario, roundWarmupSeconds)
/** A run's seconds of wrk, with about half a second to start it. */
const runSeconds = (seconds: number) => (seconds > 0 ? seconds + 0.5 : 0)
const estimate =
  15 +
  new Set(plan.flatMap((scenario) => scenario.targets)).size * settleSeconds +
  plan.reduce(
    (sum, scenario) =>
      sum +
      scenario.targets.length *
        (runSeconds(warmupSeconds) +
          rounds * (runSeconds(secondsOf(scenario)) + runSeconds(roundWarmupOf(scenario)))),
    0,
  )
if (estimate > Number(values['max-seconds'])) {
  process.stderr.write(
    `bench: planned ~${Math.round(estimate)} s exceeds --max-seconds ${values['max-seconds']}\n`,
  )
  process.exit(2)
}

function shell(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'))
  for (const port of Object.values(ports)) {
    if (await waitForPort(port, 1)) throw new Error(`port ${port} is taken; pass --base-port`)
  }
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: coreCount,
    node: process.version,
    commit: shell('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    loadBefore: shell('uptime', []),
    loadAfter: '',
    date: new Date().toISOString(),
    pinning: pinning ? `wrk + upstream on cpu ${loadCpus}, hop on cpu ${hopCpus}` : 'off',
    workers,
    nodeOptions: values['switchyard-node-options'],
  }
  process.stdout.write(
    `bench: ${machine.cpu}, ${coreCount} cores, node ${machine.node}, pinning ${machine.pinning}, ` +
      `${rounds} rounds x ${seconds} s, ~${Math.round(estimate)} s; files in ${dir}\n  load: ${machine.loadBefore}\n`,
  )

  const mockUrl = `http://127.0.0.1:${ports.mock}`
  const redisUp =
    plan.some((scenario) => scenario.targets.includes('switchyard-redis')) &&
    (await waitForPort(Number(redisUrl.port || 6379), 1000, redisUrl.hostname))
  const configs = planConfigs({
    cli,
    dir,
    mockUrl,
    fullPort: ports.full,
    barePort: ports.bare,
    redis: redisUp
      ? {
          url: redisUrl.href,
          port: ports.redis,
          prefix: `switchyard-bench:${process.pid}-${Date.now()}:`,
        }
      : undefined,
  })
  for (const [feature, state] of Object.entries(configs.features)) {
    process.stdout.write(`  ${feature}: ${state}\n`)
  }

  const node = process.execPath
  const workerArgs = workers > 1 ? ['--workers', String(workers)] : []
  const nodeOptions = values['switchyard-node-options'].split(' ').filter((flag) => flag !== '')
  const processes: Partial<Record<TargetName, Started>> = {
    direct: startProcess(
      'mock',
      node,
      [join(here, 'mock-upstream.ts'), '--port', String(ports.mock), '--chunks', '100'],
      { log: join(dir, 'mock.log'), cpus: loadCpus },
    ),
    proxy: startProcess(
      'proxy',
      node,
      [join(here, 'minimal-proxy.ts'), '--port', String(ports.proxy), '--upstream', mockUrl],
      { log: join(dir, 'proxy.log'), cpus: hopCpus },
    ),
    switchyard: startProcess(
      'switchyard',
      node,
      [...nodeOptions, cli, 'serve', '--config', configs.full, ...workerArgs],
      { log: join(dir, 'switchyard.log'), cwd: dir, cpus: hopCpus },
    ),
    'switchyard-bare': startProcess(
      'switchyard-bare',
      node,
      [...nodeOptions, cli, 'serve', '--config', configs.bare, ...workerArgs],
      { log: join(dir, 'switchyard-bare.log'), cwd: dir, cpus: hopCpus },
    ),
  }
  if (configs.redis !== undefined) {
    processes['switchyard-redis'] = startProcess(
      'switchyard-redis',
      node,
      [...nodeOptions, cli, 'serve', '--config', configs.redis, ...workerArgs],
      { log: join(dir, 'switchyard-redis.log'), cwd: dir, cpus: hopCpus },
    )
  }
  const portOf: Record<TargetName, number> = {
    direct: ports.mock,
    proxy: ports.proxy,
    switchyard: ports.full,
    'switchyard-bare': ports.bare,
    'switchyard-redis': ports.redis,
  }
  const started = (target: TargetName): Started => {
    const hop = processes[target]
    if (hop === undefined) throw new Error(`${target} was not started`)
    return hop
  }
  for (const [name, hop] of Object.entries(processes)) {
    if (!(await waitForPort(portOf[name as TargetName], 20_000))) {
      throw new Error(`${name} did not start; see ${hop.log}`)
    }
  }
  await sleep(2000)
  const idleRss: Partial<Record<TargetName, number>> = {}
  for (const [name, hop] of Object.entries(processes))
    idleRss[name as TargetName] = rssMiB(hop.child.pid!)

  const scriptPath = writeWrkScript(dir)
  const notes: string[] = []
  const runnable: Scenario[] = []
  if (!redisUp && plan.some((scenario) => scenario.targets.includes('switchyard-redis'))) {
    notes.push(`switchyard-redis: skipped, no Redis answers at ${redisUrl.href}`)
  }
  for (const planned of plan) {
    const scenario = {
      ...planned,
      targets: planned.targets.filter((target) => processes[target] !== undefined),
    }
    for (const target of scenario.targets) {
      const request = requestFor(scenario, target)
      writeFileSync(join(dir, `${scenario.name}.${target}.body`), request.body)
      const problem = await sanity(portOf[target], request, scenario)
      if (problem !== undefined)
        throw new Error(`sanity check failed for ${scenario.name} via ${target}: ${problem}`)
    }
    runnable.push(scenario)
  }
  for (const note of notes) process.stdout.write(`  ${note}\n`)

  const peaks = new Map<string, number>()
  let current: string | undefined
  const sampler = setInterval(() => {
    if (current === undefined) return
    const [, target] = current.split('|') as [string, TargetName]
    const rss = rssMiB(started(target).child.pid!)
    if (!((peaks.get(current) ?? 0) >= rss)) peaks.set(current, rss)
  }, 100)

  async function measure(
    scenario: Scenario,
    target: TargetName,
    duration: number,
  ): Promise<Measurement> {
    const request = requestFor(scenario, target)
    const pid = started(target).child.pid!
    const mockPid = started('direct').child.pid!
    const redisPid = target === 'switchyard-redis' ? localRedisPid() : undefined
    const redisBefore = redisPid === undefined ? 0 : cpuSeconds(redisPid)
    const bodyFile = join(dir, `${scenario.name}.${target}.body`)
    const url = `http://127.0.0.1:${portOf[target]}${request.path}`
    const cpuBefore = cpuSeconds(pid)
    const mockBefore = cpuSeconds(mockPid)
    const coresBefore = coreTicks()
    const wallBefore = performance.now()
    current = `${scenario.name}|${target}`
    const result =
      scenario.tool === 'wrk'
        ? await runWrk({
            url,
            headers: request.headers,
            bodyFile,
            connections: scenario.connections,
            seconds: duration,
            timeoutSeconds: scenario.pace === 'slow' ? 15 : 5,
            scriptPath,
            cpus: loadCpus,
          })
        : await runProbe(url, request.headers, bodyFile, duration)
    current = undefined
    const wall = (performance.now() - wallBefore) / 1000
    const cpu = cpuSeconds(pid) - cpuBefore
    const coresAfter = coreTicks()
    const requests = result.requests
    return {
      requests,
      rps: requests / (result.durationUs / 1e6),
      errors: result.errors,
      p50: result.p50 / 1000,
      p99: result.p99 / 1000,
      cpuUsPerRequest: requests > 0 ? (cpu * 1e6) / requests : Number.NaN,
      ...(redisPid === undefined || requests === 0
        ? {}
        : { redisCpuUsPerRequest: ((cpuSeconds(redisPid) - redisBefore) * 1e6) / requests }),
      hopCpuPercent: (cpu / wall) * 100,
      mockCpuPercent: ((cpuSeconds(mockPid) - mockBefore) / wall) * 100,
      coreBusyPercent: coresAfter.busy.map((busy, index) =>
        Math.round(
          ((busy - coresBefore.busy[index]!) /
            Math.max(1, coresAfter.total[index]! - coresBefore.total[index]!)) *
            100,
        ),
      ),
      stealPercent: stealPercent(coresBefore, coresAfter),
      ...(result.failure === undefined ? {} : { failure: result.failure }),
    }
  }

  async function runProbe(url: string, headers: string[], bodyFile: string, duration: number) {
    const args = [
      join(here, 'ttfb-probe.ts'),
      '--url',
      url,
      '--body-file',
      bodyFile,
      '--seconds',
      String(duration),
      '--count',
      '20000',
    ]
    for (const header of headers) args.push('--header', header)
    const output = await new Promise<string>((resolve) => {
      const child =
        loadCpus === undefined
          ? spawn(node, args)
          : spawn('taskset', ['-c', loadCpus, node, ...args])
      let text = ''
      child.stdout.on('data', (data: Buffer) => {
        text += data.toString()
      })
      child.stderr.on('data', (data: Buffer) => {
        text += data.toString()
      })
      const guard = setTimeout(() => child.kill('SIGKILL'), (duration + 20) * 1000)
      child.once('close', () => {
        clearTimeout(guard)
        resolve(text)
      })
    })
    const match = /PROBEJSON (\{.*\})/.exec(output)
    if (match === null)
      return {
        requests: 0,
        durationUs: 1,
        errors: Number.NaN,
        p50: 0,
        p99: 0,
        failure: output.slice(-400),
      }
    const probe = JSON.parse(match[1]!) as {
      requests: number
      errors: number
      firstP50: number
      firstP99: number
    }
    return {
      requests: probe.requests,
      durationUs: duration * 1e6,
      errors: probe.errors,
      p50: probe.firstP50,
      p99: probe.firstP99,
    }
  }

  const settled = new Set<TargetName>()
  for (const scenario of runnable) {
    for (const target of scenario.targets) {
      const first = !settled.has(target)
      settled.add(target)
      await measure(
        scenario,
        target,
        first ? Math.max(warmupSeconds, settleSeconds) : warmupSeconds,
      )
    }
  }
  process.stdout.write('  warm-up done\n')

  const measurements = new Map<string, Measurement[]>()
  for (let round = 0; round < rounds; round++) {
    for (const scenario of runnable) {
      const order = roundOrder(scenario.targets, round)
      for (const target of order) {
        if (roundWarmupOf(scenario) > 0) await measure(scenario, target, roundWarmupOf(scenario))
        const measurement = await measure(scenario, target, secondsOf(scenario))
        const key = `${scenario.name}|${target}`
        measurements.set(key, [...(measurements.get(key) ?? []), measurement])
        process.stdout.write(
          `  r${round + 1} ${scenario.name.padEnd(18)} ${target.padEnd(16)} ${Math.round(measurement.rps).toString().padStart(6)} req/s  ` +
            `p50 ${measurement.p50.toFixed(2)} ms  p99 ${measurement.p99.toFixed(2)} ms  ${measurement.cpuUsPerRequest.toFixed(0)} us/req` +
            `${measurement.errors ? `  ERRORS ${measurement.errors}` : ''}${measurement.failure ? `  ${measurement.failure}` : ''}\n`,
        )
      }
    }
  }
  clearInterval(sampler)
  machine.loadAfter = shell('uptime', [])

  const results: ScenarioResult[] = runnable.map((scenario) => ({
    scenario,
    targets: scenario.targets.map(
      (target): TargetSummary => ({
        target,
        rounds: measurements.get(`${scenario.name}|${target}`) ?? [],
        peakRss: peaks.get(`${scenario.name}|${target}`) ?? Number.NaN,
      }),
    ),
  }))
  const reportInput = {
    machine,
    features: configs.features,
    notes,
    results,
    idleRss,
    rounds,
    seconds,
    roundWarmupSeconds,
  }
  const report = renderReport(reportInput)
  process.stdout.write(`\n${report}\n`)
  writeFileSync(join(dir, 'report.md'), report)
  // Everything the report was rendered from: `renderReport` of it renders the run again.
  writeFileSync(join(dir, 'results.json'), JSON.stringify(reportInput, null, 1))
  if (values.out !== undefined) writeFileSync(values.out, report)
  process.stdout.write(`wrote ${join(dir, 'report.md')}${values.out ? ` and ${values.out}` : ''}\n`)
}

/** The local redis-server's process id, when Redis runs on this machine. */
function localRedisPid(): number | undefined {
  const pid = Number(shell('pgrep', ['-o', '-x', 'redis-server']))
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

async function sanity(
  port: number,
  request: { path: string; headers: string[]; body: string },
  scenario: Scenario,
): Promise<string | undefined> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  for (const line of request.headers) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
  }
  // The slow scenario's stream takes about 2 s; the others answer at once.
  const response = await fetch(`http://127.0.0.1:${port}${request.path}`, {
    method: 'POST',
    headers,
    body: request.body,
    signal: AbortSignal.timeout(15_000),
  })
  const text = await response.text()
  if (response.status !== 200) return `HTTP ${response.status} ${text.slice(0, 300)}`
  if (!scenario.stream)
    return /"content"/.test(text) ? undefined : `no content in ${text.slice(0, 200)}`
  const ended = request.path.endsWith('/messages')
    ? text.includes('message_stop')
    : text.includes('data: [DONE]')
  return ended ? undefined : `stream did not finish: ${text.slice(-200)}`
}

const watchdog = setTimeout(
  () => {
    process.stderr.write('bench: over time, stopping\n')
    void stopAll().then(() => process.exit(3))
  },
  (estimate + 120) * 1000,
)
watchdog.unref()
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)))
process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)))

try {
  await main()
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  await stopAll()
}
