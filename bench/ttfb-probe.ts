/**
 * Time to first chunk, which wrk cannot see: sends streamed requests one after another on one
 * keep-alive connection and times the first body bytes and the end of each response. Prints one
 * JSON line with percentiles in microseconds.
 *
 *   node bench/ttfb-probe.ts --url URL --body-file FILE [--header 'K: V']... [--count 2000] [--seconds 4]
 */
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'body-file': { type: 'string' },
    header: { type: 'string', multiple: true, default: [] },
    count: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '4' },
  },
})
if (values.url === undefined || values['body-file'] === undefined) {
  process.stderr.write('ttfb-probe needs --url and --body-file\n')
  process.exit(2)
}
const url = new URL(values.url)
const body = readFileSync(values['body-file'])
const headers: Record<string, string | number> = {
  'content-type': 'application/json',
  'content-length': body.length,
}
for (const line of values.header) {
  const colon = line.indexOf(':')
  headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
}
const agent = new Agent({ keepAlive: true, maxSockets: 1 })

function once(): Promise<{ first: number; total: number; ok: boolean }> {
  return new Promise((resolve) => {
    const startedAt = performance.now()
    let first = Number.NaN
    const outgoing = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent },
      (response) => {
        response.on('data', () => {
          if (Number.isNaN(first)) first = performance.now() - startedAt
        })
        response.on('end', () =>
          resolve({ first, total: performance.now() - startedAt, ok: response.statusCode === 200 }),
        )
      },
    )
    outgoing.on('error', () => resolve({ first, total: Number.NaN, ok: false }))
    outgoing.end(body)
  })
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!
}

const deadline = performance.now() + Number(values.seconds) * 1000
const firsts: number[] = []
const totals: number[] = []
let errors = 0
// Bounded by count and by time, whichever comes first.
for (let sent = 0; sent < Number(values.count) && performance.now() < deadline; sent++) {
  const result = await once()
  if (!result.ok) errors++
  else {
    firsts.push(result.first)
    totals.push(result.total)
  }
}
firsts.sort((left, right) => left - right)
totals.sort((left, right) => left - right)
const micros = (ms: number) => Math.round(ms * 1000)
process.stdout.write(
  `PROBEJSON ${JSON.stringify({
    requests: firsts.length,
    errors,
    firstP50: micros(percentile(firsts, 0.5)),
    firstP99: micros(percentile(firsts, 0.99)),
    totalP50: micros(percentile(totals, 0.5)),
    totalP99: micros(percentile(totals, 0.99)),
  })}\n`,
)
agent.destroy()
