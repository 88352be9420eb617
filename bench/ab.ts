/**
 * CPU per request of two or more hops in alternating rounds: the tool for deciding one change (or
 * one flag) by CPU time rather than by instructions. Every hop runs as its own process on the
 * same core against the same mock upstream, is settled under load first (V8 compiles for 10-15 s
 * under load), then takes its turn in each round, in the main bench's Williams order, each turn
 * after 1 s of unmeasured load (`--round-warmup-seconds`: an idle hop's compiled code is discarded
 * by V8's memory reducer, see bench/run.ts). Rounds of
 * different hops a few seconds apart share the machine's state, so the ratio of each hop to the
 * first within a round is the figure to read, as its median over the rounds; CPU time on this VM
 * drifts by 20% or more between minutes, and two processes of one build differ by up to 15%.
 *
 *   npm run bench:ab -- base=bare candidate=bare@/tmp/wt/dist/bin/switchyard.js
 *   npm run bench:ab -- proxy=proxy bare=bare full=full --rounds 8
 *   npm run bench:ab -- base=bare small-young=bare,--max-semi-space-size=4 --scenario large
 *   npm run bench:ab -- proxy=proxy floor=proxy@bench/minimal-gateway.ts bare=bare
 *
 * Hops are `name=kind[@script][,node-flag…]` (bench/hop-spec.ts). Each row prints a hop's CPU µs
 * per request and, in brackets, its main thread's share (the event loop; the rest is V8's
 * helpers, the SQLite writer and libuv's pool), then the round's worst hypervisor steal. Needs
 * wrk. A run takes about hops × (settle + rounds × (seconds + 1)).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { planConfigs } from './gateway-config.ts'
import { type HopSpec, parseHopSpec } from './hop-spec.ts'
import {
  coreTicks,
  cpuSeconds,
  hasCommand,
  mainThreadCpuSeconds,
  startProcess,
  stealPercent,
  stopAll,
  waitForPort,
} from './processes.ts'
import { median, ratioRange } from './report.ts'
import { requestFor, roundOrder, roundWarmupFor, type Scenario, scenarios } from './scenarios.ts'
import { runWrk, writeWrkScript } from './wrk.ts'

const here = fileURLToPath(new URL('.', import.meta.url))
const ownCli = join(here, '..', 'dist/bin/switchyard.js')

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string', default: 'small' },
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '3' },
    'settle-seconds': { type: 'string', default: '15' },
    /** Unmeasured load before each measured round, as in the main bench (bench/run.ts). */
    'round-warmup-seconds': { type: 'string', default: '1' },
    'base-port': { type: 'string', default: '28380' },
  },
})

function fail(message: string): never {
  process.stderr.write(`bench:ab: ${message}\n`)
  process.exit(2)
}

const hops: HopSpec[] = positionals.map((word) => {
  const spec = parseHopSpec(word)
  return typeof spec === 'string' ? fail(spec) : spec
})
if (hops.length < 2) fail('name at least two hops, e.g. `base=bare candidate=bare,--flag`')
if (new Set(hops.map((hop) => hop.name)).size !== hops.length) fail('hop names must differ')
const scenario = wrkScenario(values.scenario)
// As in the main bench: a paced scenario's streams outlast the lead-in, so it has none.
const roundWarmup = roundWarmupFor(scenario, Number(values['round-warmup-seconds']))
function wrkScenario(name: string): Scenario {
  const found = scenarios.find((candidate) => candidate.name === name)
  if (found !== undefined && found.tool === 'wrk') return found
  const names = scenarios.filter((candidate) => candidate.tool === 'wrk').map(({ name }) => name)
  return fail(`--scenario is one of ${names.join(', ')}`)
}
if (!hasCommand('wrk', ['--version'])) fail('needs wrk: apt-get install -y wrk')
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
const settleSeconds = Number(values['settle-seconds'])
const basePort = Number(values['base-port'])
// As in the main bench: wrk and the upstream on core 0, the hops on core 1.
const pinned = cpus().length >= 2 && hasCommand('taskset', ['-V'])
const loadCpus = pinned ? '0' : undefined
const hopCpus = pinned ? '1' : undefined

const dir = mkdtempSync(join(tmpdir(), 'switchyard-ab-'))
const mockUrl = `http://127.0.0.1:${basePort}`
const node = process.execPath
const mock = startProcess(
  'mock',
  node,
  [join(here, 'mock-upstream.ts'), '--port', String(basePort), '--chunks', '100'],
  { log: join(dir, 'mock.log'), cpus: loadCpus },
)

interface Running {
  spec: HopSpec
  port: number
  pid: number
  log: string
  bodyFile: string
  request: ReturnType<typeof requestFor>
}

function startHop(spec: HopSpec, index: number): Running {
  const port = basePort + 1 + index
  const log = join(dir, `${spec.name}.log`)
  let args: string[]
  if (spec.kind === 'proxy') {
    const script = spec.script === undefined ? join(here, 'minimal-proxy.ts') : resolve(spec.script)
    args = [script, '--port', String(port), '--upstream', mockUrl]
  } else {
    const cli = spec.script === undefined ? ownCli : resolve(spec.script)
    const configDir = join(dir, spec.name)
    mkdirSync(configDir)
    // Both configs get this hop's port; it runs the one its kind names.
    const configs = planConfigs({ cli, dir: configDir, mockUrl, fullPort: port, barePort: port })
    args = [cli, 'serve', '--config', spec.kind === 'full' ? configs.full : configs.bare]
  }
  const started = startProcess(spec.name, node, [...spec.nodeFlags, ...args], {
    log,
    cwd: dir,
    cpus: hopCpus,
  })
  const request = requestFor(scenario, spec.kind === 'proxy' ? 'proxy' : 'switchyard')
  const bodyFile = join(dir, `${spec.name}.body`)
  writeFileSync(bodyFile, request.body)
  return { spec, port, pid: started.child.pid!, log, bodyFile, request }
}

const running: Running[] = []
try {
  for (const [index, spec] of hops.entries()) running.push(startHop(spec, index))
  if (!(await waitForPort(basePort, 20_000))) {
    throw new Error(`the mock upstream did not start; see ${mock.log}`)
  }
  for (const hop of running) {
    if (!(await waitForPort(hop.port, 20_000))) {
      throw new Error(`${hop.spec.name} did not start; see ${hop.log}`)
    }
  }
  const scriptPath = writeWrkScript(dir)

  async function measure(hop: Running, duration: number) {
    const cpuBefore = cpuSeconds(hop.pid)
    const mainBefore = mainThreadCpuSeconds(hop.pid)
    const coresBefore = coreTicks()
    const result = await runWrk({
      url: `http://127.0.0.1:${hop.port}${hop.request.path}`,
      headers: hop.request.headers,
      bodyFile: hop.bodyFile,
      connections: scenario.connections,
      seconds: duration,
      timeoutSeconds: scenario.pace === 'slow' ? 15 : 5,
      scriptPath,
      cpus: loadCpus,
    })
    const requests = Math.max(1, result.requests)
    const coresAfter = coreTicks()
    return {
      cpuUs: ((cpuSeconds(hop.pid) - cpuBefore) * 1e6) / requests,
      mainUs: ((mainThreadCpuSeconds(hop.pid) - mainBefore) * 1e6) / requests,
      rps: result.requests / (result.durationUs / 1e6),
      errors: result.errors,
      stealPercent: stealPercent(coresBefore, coresAfter),
    }
  }

  process.stdout.write(
    `${scenario.name}: ${hops.length} hops, settled ${settleSeconds} s each, ${rounds} rounds of ${seconds} s${pinned ? ' (load on cpu 0, hops on cpu 1)' : ''}\n`,
  )
  for (const hop of running) await measure(hop, settleSeconds)

  const cpu = running.map((): number[] => [])
  const ratios = running.map((): number[] => [])
  for (let round = 0; round < rounds; round++) {
    const results = new Map<Running, Awaited<ReturnType<typeof measure>>>()
    for (const hop of roundOrder(running, round)) {
      if (roundWarmup > 0) await measure(hop, roundWarmup)
      results.set(hop, await measure(hop, seconds))
    }
    const first = results.get(running[0]!)!.cpuUs
    const cells = running.map((hop, index) => {
      const result = results.get(hop)!
      cpu[index]!.push(result.cpuUs)
      ratios[index]!.push(result.cpuUs / first)
      const errors = result.errors > 0 ? ` ${result.errors} errors` : ''
      return `${hop.spec.name} ${result.cpuUs.toFixed(1)} (${result.mainUs.toFixed(1)}) ${Math.round(result.rps)}/s${errors}`
    })
    // The hypervisor's share of these cores over the round: a round with much of it is noise.
    const steal = Math.max(...[...results.values()].map((result) => result.stealPercent))
    process.stdout.write(`  r${round + 1}  ${cells.join('   ')}   steal ${steal.toFixed(1)}%\n`)
  }
  process.stdout.write(
    `CPU µs per request, median of ${rounds} rounds; ratio to ${hops[0]!.name}:\n`,
  )
  running.forEach((hop, index) => {
    const ratio =
      index === 0
        ? ''
        : `  ${median(ratios[index]!).toFixed(3)}x (rounds ${ratioRange(ratios[index]!)})`
    process.stdout.write(
      `  ${hop.spec.name.padEnd(16)} ${median(cpu[index]!).toFixed(1)}${ratio}\n`,
    )
  })
} catch (error) {
  process.stderr.write(`bench:ab: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  await stopAll()
}
