/** Reads a config file (YAML), interpolates the environment, validates, and reports every problem. */

import { isNode, LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'
import { existsSync, readFileSync } from '../core/builtins.ts'
import { flattenStrings } from '../core/flat-string.ts'
import { defaultConfigSource } from './default.ts'
import { type InterpolationProblem, interpolate } from './interpolate.ts'
import { type Config, configSchema, referenceProblems } from './schema.ts'

export interface ConfigProblem {
  /** Dotted path in the file, e.g. `providers.vllm.base_url`. */
  path: string
  /** `line:column` in the file, when the path exists there. */
  location: string | undefined
  message: string
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[]
  readonly file: string

  constructor(file: string, problems: ConfigProblem[]) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems
        .map((problem) => `  ${formatProblem(problem)}`)
        .join('\n')}`,
    )
    this.name = 'ConfigError'
    this.file = file
    this.problems = problems
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.location === undefined ? '' : ` (line ${problem.location})`
  return `${problem.path || '(root)'}${where}: ${problem.message}`
}

export interface LoadedConfig {
  config: Config
  /** The file it came from, or `embedded default`. */
  source: string
}

/** `serve` without `--config`: `./switchyard.yaml` when present, else the embedded default. */
export function resolveConfigPath(explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit
  return existsSync('switchyard.yaml') ? 'switchyard.yaml' : undefined
}

export function loadConfig(file: string | undefined, environment = process.env): LoadedConfig {
  if (file === undefined) {
    return {
      config: parseConfig(defaultConfigSource(environment), 'embedded default', environment),
      source: 'embedded default',
    }
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error)
    throw new ConfigError(file, [{ path: '', location: undefined, message: reason }])
  }
  return { config: parseConfig(text, file, environment), source: file }
}

export function parseConfig(text: string, file: string, environment: NodeJS.ProcessEnv): Config {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true })
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => ({
        path: '',
        location: error.linePos ? `${error.linePos[0].line}:${error.linePos[0].col}` : undefined,
        message: error.message.split('\n')[0] ?? 'YAML syntax error',
      })),
    )
  }
  const locate = (path: (string | number)[]): string | undefined => {
    for (let length = path.length; length > 0; length--) {
      const node = document.getIn(path.slice(0, length), true)
      if (isNode(node) && node.range) {
        const position = lineCounter.linePos(node.range[0])
        return `${position.line}:${position.col}`
      }
    }
    return undefined
  }
  const toProblem = (issue: InterpolationProblem | z.core.$ZodIssue): ConfigProblem => {
    let path = (issue.path as PropertyKey[]).filter(
      (part): part is string | number => typeof part !== 'symbol',
    )
    // An unknown key is reported at the key itself, not at the object holding it.
    if ('code' in issue && issue.code === 'unrecognized_keys' && issue.keys.length === 1) {
      path = [...path, issue.keys[0]!]
    }
    return { path: formatPath(path), location: locate(path), message: issue.message }
  }

  const interpolationProblems: InterpolationProblem[] = []
  // Flat copies: YAML's strings are slices of the file's text, which V8's JSON.stringify takes
  // its slow path for, and model and provider names are serialised on every request.
  const raw = flattenStrings(interpolate(document.toJS() ?? {}, environment, interpolationProblems))
  const result = configSchema.safeParse(raw)
  const problems = [
    ...interpolationProblems.map(toProblem),
    ...(result.success ? [] : result.error.issues.map(toProblem)),
    ...referenceProblems(raw).map(toProblem),
  ]
  if (problems.length > 0 || !result.success) throw new ConfigError(file, problems)
  return result.data
}

function formatPath(path: (string | number)[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`,
    )
    .join('')
}
