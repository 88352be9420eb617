/**
 * Names the JIT code in a callgrind dump. callgrind sees V8's generated code as bare addresses;
 * `node --perf-basic-prof` writes `/tmp/perf-PID.map` (start, size, name per code object), and
 * this joins the two: instructions per request by function, self and inclusive. Two limits: an
 * address V8 freed and reused for other code is named after the last code the map lists there,
 * and inclusive counts of async functions are rough (a resumed function's callers are the
 * microtask machinery). The native rows (`JsonParse`, `sqlite3_step`, node's C++) are exact: read
 * the JIT rows as where to look, and the native ones as what it costs.
 */
import { readFileSync } from 'node:fs'

interface CodeRange {
  start: number
  end: number
  name: string
}

export interface FunctionCost {
  name: string
  self: number
  inclusive: number
}

function readPerfMap(path: string): CodeRange[] {
  const ranges: CodeRange[] = []
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ')
    if (start === undefined || size === undefined || name.length === 0) continue
    const from = Number.parseInt(start, 16)
    ranges.push({ start: from, end: from + Number.parseInt(size, 16), name: name.join(' ') })
  }
  return ranges.sort((a, b) => a.start - b.start)
}

/** The perf map's name for a bare address, with the checkout's paths cut short. */
function nameFor(ranges: CodeRange[], symbol: string, root: string): string {
  const address = /^0x([0-9a-f]+)$/.exec(symbol)
  if (address === null) return symbol
  const at = Number.parseInt(address[1]!, 16)
  let low = 0
  let high = ranges.length - 1
  let found: CodeRange | undefined
  while (low <= high) {
    const middle = (low + high) >> 1
    const range = ranges[middle]!
    if (range.start <= at) {
      found = range
      low = middle + 1
    } else high = middle - 1
  }
  if (found === undefined || at >= found.end) return 'JIT (unnamed)'
  return found.name.replaceAll(`file://${root}/dist/`, '').replaceAll(`${root}/node_modules/`, '')
}

/** Self and inclusive instructions per function of one callgrind dump (event: Ir only). */
export function readCallgrindProfile(dump: string, perfMap: string, root: string): FunctionCost[] {
  const ranges = readPerfMap(perfMap)
  const names = new Map<string, string>()
  const costs = new Map<string, FunctionCost>()
  let current: FunctionCost | undefined
  let callCostNext = false
  const define = (id: string, symbol: string | undefined) => {
    if (symbol !== undefined) names.set(id, nameFor(ranges, symbol, root))
    return names.get(id) ?? id
  }
  for (const line of readFileSync(dump, 'utf8').split('\n')) {
    const function_ = /^fn=\((\d+)\)(?: (.*))?$/.exec(line)
    if (function_ !== null) {
      const name = define(function_[1]!, function_[2])
      current = costs.get(name)
      if (current === undefined) {
        current = { name, self: 0, inclusive: 0 }
        costs.set(name, current)
      }
      continue
    }
    const callee = /^cfn=\((\d+)\)(?: (.*))?$/.exec(line)
    if (callee !== null) {
      define(callee[1]!, callee[2])
      continue
    }
    if (line.startsWith('calls=')) {
      callCostNext = true
      continue
    }
    if (current === undefined || !/^[-+*\d]/.test(line)) continue
    const fields = line.trim().split(/\s+/)
    const cost = Number(fields[fields.length - 1]) || 0
    // The line after `calls=` is what the call cost in all: inclusive only.
    if (!callCostNext) current.self += cost
    current.inclusive += cost
    callCostNext = false
  }
  return [...costs.values()]
}

/** Two Markdown-ish tables: the costliest functions by self, then the gateway's own by inclusive. */
export function formatProfile(costs: FunctionCost[], requests: number, rows = 30): string {
  const perRequest = (count: number) => `${(count / requests / 1000).toFixed(1)}k`.padStart(7)
  const bySelf = [...costs].sort((a, b) => b.self - a.self).slice(0, rows)
  const ours = costs
    .filter((cost) => cost.name.includes(' src/') && !cost.name.includes('node_modules'))
    .sort((a, b) => b.inclusive - a.inclusive)
    .slice(0, rows)
  return [
    'self instructions per request:',
    ...bySelf.map((cost) => `${perRequest(cost.self)}  ${cost.name}`),
    '',
    "the gateway's own functions, inclusive instructions per request:",
    ...ours.map((cost) => `${perRequest(cost.inclusive)}  ${cost.name}`),
  ].join('\n')
}
