/**
 * `${VAR}` and `${VAR:-default}` in config strings, taken from the environment. A string that is
 * nothing but one reference is read as a YAML scalar afterwards, so `port: ${PORT:-8090}` stays
 * a number. `$${` escapes a literal `${`.
 */
import { parse as parseYamlScalar } from 'yaml'

export interface InterpolationProblem {
  path: (string | number)[]
  message: string
}

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g
const wholeReference = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/

export function interpolate(
  value: unknown,
  environment: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') return interpolateString(value, environment, problems, path)
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolate(item, environment, problems, [...path, index]))
  }
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      result[key] = interpolate(item, environment, problems, [...path, key])
    }
    return result
  }
  return value
}

function interpolateString(
  text: string,
  environment: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  path: (string | number)[],
): unknown {
  if (!text.includes('${')) return text
  const replaced = text.replace(
    reference,
    (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$${') return '${'
      const found = environment[name!]
      if (found !== undefined && found !== '') return found
      if (fallback !== undefined) return fallback
      problems.push({
        path,
        message: `environment variable ${name} is not set (write \${${name}:-} to allow empty)`,
      })
      return ''
    },
  )
  if (!wholeReference.test(text) || replaced === '') return replaced
  const scalar: unknown = parseYamlScalar(replaced)
  return typeof scalar === 'number' || typeof scalar === 'boolean' ? scalar : replaced
}
