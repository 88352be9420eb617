/**
 * Instructions per request, counted by valgrind's callgrind: the minimal proxy and Switchyard
 * (with every feature the main bench turns on), each run under callgrind at the same time,
 * against the same mock upstream. Instruction counts repeat to within a few percent from one run
 * to the next whatever else the machine does, where CPU time on a shared VM drifts by 20% or more,
 * so this is the figure to decide small changes by. It counts what runs inside an event loop
 * (`uv_run`): the main thread and, once the usage log has written a batch, the SQLite writer
 * thread; no kernel time, no GC helper threads, no cache misses.
 *
 *   npm run bench:instructions -- [--scenario small|large|stream|translated|translated-stream|streams-1000]
 *                                  [--warmup 10000] [--requests 1000] [--windows 4] [--base-port 28280]
 *                                  [--connections 1] [--profile] [--gateway full|bare]
 *                                  [--switchyard-node-options='--flag …'] [--mix stream,translated] [--mix-requests 1000]
 *
 * A paced scenario (`streams-1000`: chunks 20 ms apart, each in its own read) defaults to 300
 * streams of warm-up and 50 connections: a stream takes about 2 s however fast the hop is.
 *
 * `--connections 32` keeps that many requests in flight in the counted windows, as the main
 * bench's load does: a process then handles several requests per turn of its event loop.
 * `--mix` has each process serve other scenarios' traffic first (`--mix-requests` of each), so the
 * counted code was compiled with mixed traffic's type feedback, as in the main bench's rounds.
 *
 * Needs valgrind (`apt-get install -y valgrind`). Takes about three minutes.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatProfile, readCallgrindProfile } from './callgrind-profile.ts'
import { planConfigs } from './gateway-config.ts'
import { hasCommand, sleep, startProcess, stopAll, waitForPort } from './processes.ts'
import { requestFor, type Scenario, scenarios } from './scenarios.ts'

const here = fileURLToPath(new URL('.', import.meta.url))
const cli = join(here, '..', 'dist/bin/switchyard.js')

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'small' },
    /** Defaults: 10,000 and 1,000 requests; for streams (100 chunks each) 3,000 and 100; paced, 300 and 100. */
    warmup: { type: 'string' },
    requests: { type: 'string' },
    windows: { type: 'string', default: '4' },
    /** Default 1; 50 for a paced scenario. */
    connections: { type: 'string' },
    /** Also print Switchyard's instructions by function (JIT code named with --perf-basic-prof). */
    profile: { type: 'boolean', default: false },
    /** `full` (every feature on, as in the main bench) or `bare` (the key only, no limits, no usage log). */
    gateway: { type: 'string', default: 'full' },
    'base-port': { type: 'string', default: '28280' },
    /**
     * Scenarios each process serves before the warm-up, e.g. `stream,translated,translated-stream`:
     * V8 then compiles the request path with the type feedback of mixed traffic, as in the main
     * bench, whose rounds run every scenario in turn, and in production.
     */
    mix: { type: 'string', default: '' },
    'mix-requests': { type: 'string', default: '1000' },
    /** Node flags for the Switchyard process only, e.g. `--max-polymorphic-map-count=8`. */
    'switchyard-node-options': { type: 'string', default: '' },
  },
})
const chosen = scenarios.find((candidate) => candidate.name === values.scenario)
const streamed = values.scenario.includes('stream')
// A paced stream lasts about 2 s however fast the hop is: many run at once, and fewer warm it up.
const paced = chosen !== undefined && chosen.pace !== 'burst'
const warmup = Number(values.warmup ?? (paced ? 300 : streamed ? 3000 : 10_000))
const perWindow = Number(values.requests ?? (streamed ? 100 : 1000))
const windows = Number(values.windows)
const connections = Number(values.connections ?? (paced ? 50 : 1))
const mixRequests = Number(values['mix-requests'])
const mixScenarios = values.mix
  .split(',')
  .filter((name) => name !== '')
  .map((name) => {
    const found = scenarios.find((candidate) => candidate.name === name)
    if (found === undefined || found.tool !== 'wrk' || found.pace !== 'burst') {
      process.stderr.write(`--mix: wrk scenarios that are not paced (got ${name})\n`)
      process.exit(2)
    }
    return found
  })
const basePort = Number(values['base-port'])
if (values.gateway !== 'full' && values.gateway !== 'bare') {
  process.stderr.write(`--gateway: full or bare (got ${values.gateway})\n`)
  process.exit(2)
}
const bare = values.gateway === 'bare'
const ports = { mock: basePort, proxy: basePort + 1, full: basePort + 10, bare: basePort + 11 }

if (!hasCommand('valgrind', ['--version']) || !hasCommand('callgrind_control', ['--help'])) {
  process.stderr.write('bench:instructions needs valgrind: apt-get install -y valgrind\n')
  process.exit(2)
}

interface Target {
  name: 'proxy' | 'switchyard'
  port: number
  path: string
  headers: Record<string, string>
  body: string
  pid: number
  dumps: string
}

/** Sends `count` requests over `connections` keep-alive connections; every answer must be 200. */
async function send(target: Target, count: number, connections: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  let left = count
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: '127.0.0.1',
          port: target.port,
          path: target.path,
          method: 'POST',
          agent,
          headers: { ...target.headers, 'content-length': Buffer.byteLength(target.body) },
        },
        (response) => {
          response.resume()
          response.once('end', () =>
            response.statusCode === 200
              ? resolve()
              : reject(new Error(`${target.name} answered ${response.statusCode}`)),
          )
        },
      )
      outgoing.once('error', reject)
      outgoing.end(target.body)
    })
  const lane = async () => {
    while (left > 0) {
      left--
      await one()
    }
  }
  await Promise.all(Array.from({ length: connections }, lane))
  agent.destroy()
}

function newestDump(directory: string): string {
  const newest = readdirSync(directory)
    .filter((file) => file.startsWith('callgrind.out'))
    .map((file) => join(directory, file))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
  if (newest === undefined) throw new Error(`no callgrind dump in ${directory}`)
  return newest
}

/**
 * The instruction total of the newest callgrind dump in `directory`, once it is written whole (the
 * file appears before its summary line does).
 */
async function newestDumpTotal(directory: string): Promise<number> {
  const newest = newestDump(directory)
  const before = Date.now()
  for (;;) {
    const summary = /^summary: (\d+)/m.exec(readFileSync(newest, 'utf8'))
    if (summary !== null) return Number(summary[1])
    if (Date.now() - before > 30_000) throw new Error(`no summary line in ${newest}`)
    await sleep(200)
  }
}

async function measure(target: Target, mixed: readonly Target[]): Promise<number[]> {
  for (const other of mixed) await send(other, mixRequests, 4)
  await send(target, warmup, 4)
  const perRequest: number[] = []
  for (let window = 0; window < windows; window++) {
    execFileSync('callgrind_control', ['-z', String(target.pid)], { stdio: 'ignore' })
    await send(target, perWindow, connections)
    const before = Date.now()
    execFileSync('callgrind_control', ['-d', String(target.pid)], { stdio: 'ignore' })
    // The dump is written by the process itself, shortly after the request to dump.
    while (Date.now() - before < 10_000) {
      await sleep(200)
      const latest = readdirSync(target.dumps).filter((file) => /\.\d+$/.test(file)).length
      if (latest > window) break
    }
    perRequest.push((await newestDumpTotal(target.dumps)) / perWindow)
  }
  return perRequest
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-instructions-'))
  for (const port of Object.values(ports)) {
    if (await waitForPort(port, 1)) throw new Error(`port ${port} is taken; pass --base-port`)
  }
  const mockUrl = `http://127.0.0.1:${ports.mock}`
  const configs = planConfigs({ cli, dir, mockUrl, fullPort: ports.full, barePort: ports.bare })
  const node = process.execPath
  startProcess('mock', node, [join(here, 'mock-upstream.ts'), '--port', String(ports.mock)], {
    log: join(dir, 'mock.log'),
  })
  const underCallgrind = (
    name: string,
    args: string[],
    options: { cwd?: string; env?: Record<string, string> } = {},
  ) => {
    const dumps = mkdtempSync(join(dir, `${name}-`))
    const started = startProcess(
      name,
      'valgrind',
      [
        '--tool=callgrind',
        '--smc-check=all-non-file',
        '--collect-atstart=no',
        '--toggle-collect=*uv_run*',
        `--callgrind-out-file=${join(dumps, 'callgrind.out.%p')}`,
        node,
        ...args,
      ],
      { log: join(dir, `${name}.log`), ...options },
    )
    return { pid: started.child.pid!, dumps }
  }
  const scenario = chosen
  if (scenario === undefined || scenario.tool !== 'wrk') {
    throw new Error(
      `--scenario: one of small, large, stream, translated, translated-stream, streams-1000 (got ${values.scenario})`,
    )
  }
  const targetFor = (
    name: Target['name'],
    port: number,
    run: { pid: number; dumps: string },
    traffic: Scenario = scenario,
  ): Target => {
    const request = requestFor(traffic, name)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    for (const header of request.headers) {
      const at = header.indexOf(':')
      headers[header.slice(0, at).trim()] = header.slice(at + 1).trim()
    }
    return { name, port, path: request.path, headers, body: request.body, ...run }
  }
  const proxy = targetFor(
    'proxy',
    ports.proxy,
    underCallgrind('proxy', [
      join(here, 'minimal-proxy.ts'),
      '--port',
      String(ports.proxy),
      '--upstream',
      mockUrl,
    ]),
  )
  const switchyard = targetFor(
    'switchyard',
    bare ? ports.bare : ports.full,
    // The flag and the variable `serve` would otherwise start itself again with, out of
    // valgrind's sight (src/cli/serve-restart.ts).
    underCallgrind(
      'switchyard',
      [
        '--max-semi-space-size=16',
        ...values['switchyard-node-options'].split(' ').filter((flag) => flag !== ''),
        ...(values.profile ? ['--perf-basic-prof'] : []),
        cli,
        'serve',
        '--config',
        bare ? configs.bare : configs.full,
      ],
      { cwd: dir, env: { MALLOC_ARENA_MAX: '2' } },
    ),
  )
  process.stdout.write(
    `bench:instructions: ${scenario.label.replace(/, \d+ connections$/, '')}, ${warmup} requests of warm-up, ${windows} windows of ${perWindow} requests on ${connections} connection(s); files in ${dir}\n`,
  )
  for (const target of [proxy, switchyard, { port: ports.mock }]) {
    // Starting under valgrind takes tens of seconds.
    if (!(await waitForPort(target.port, 180_000)))
      throw new Error(`port ${target.port} never opened`)
  }
  const mixOf = (target: Target) =>
    mixScenarios.map((other) => targetFor(target.name, target.port, target, other))
  const [proxyCounts, switchyardCounts] = await Promise.all([
    measure(proxy, mixOf(proxy)),
    measure(switchyard, mixOf(switchyard)),
  ])
  const format = (counts: number[]) => counts.map((count) => `${(count / 1000).toFixed(1)}k`)
  const proxyMedian = median(proxyCounts)
  const switchyardMedian = median(switchyardCounts)
  const lines = [
    '| target | instructions per request, by window | median |',
    '| --- | --- | --- |',
    `| proxy | ${format(proxyCounts).join(' / ')} | ${(proxyMedian / 1000).toFixed(1)}k |`,
    `| switchyard | ${format(switchyardCounts).join(' / ')} | ${(switchyardMedian / 1000).toFixed(1)}k |`,
    '',
    `Switchyard / proxy: ${(switchyardMedian / proxyMedian).toFixed(2)}x (${
      bare
        ? 'bare: the key only, no limits, no usage log'
        : `features: ${Object.entries(configs.features)
            .map(([feature, state]) => `${feature} ${state.split(' ')[0]}`)
            .join(', ')}`
    })`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  if (values.profile) {
    const root = join(here, '..')
    const costs = readCallgrindProfile(
      newestDump(switchyard.dumps),
      `/tmp/perf-${switchyard.pid}.map`,
      root,
    )
    process.stdout.write(`\nSwitchyard, last window:\n${formatProfile(costs, perWindow)}\n`)
  }
}

try {
  await main()
} finally {
  await stopAll()
}
