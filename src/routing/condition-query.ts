/**
 * Conditional routing's queries, in Portkey's shape: `{ "metadata.tier": { "$eq": "pro" } }`,
 * `{ "params.max_tokens": { "$gt": 1000 } }`, `{ "$or": [ … ] }`. Validated where a config is
 * parsed; compiled once into a predicate (regexes built once, never per request).
 */
import { z } from 'zod'

export interface ConditionContext {
  /** From `x-switchyard-metadata` / `x-portkey-metadata`. */
  metadata: Readonly<Record<string, string>>
  /** The request body's fields (`model`, `max_tokens`, …). */
  params: Readonly<Record<string, unknown>>
  url: { pathname: string }
}

export type ConditionQuery = Record<string, unknown>
export type CompiledQuery = (context: ConditionContext) => boolean

const comparison = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$regex'])
const fieldPattern = /^(?:metadata\.[^.]+|params\.[^.]+(?:\.[^.]+)*|url\.pathname)$/
// Values a regex is tested against are capped, and patterns that can backtrack without bound
// (a quantified group that itself holds a quantifier, or a back-reference) are refused: a
// per-request config must not be able to stall the event loop every request shares.
const regexValueLimit = 1024
const nestedQuantifier = /\([^)]*[*+}][^)]*\)\s*[*+{]|\\[1-9]/

export const conditionQuerySchema = z
  .record(z.string(), z.unknown())
  .superRefine((query, context) => {
    for (const problem of queryProblems(query, [])) context.addIssue({ code: 'custom', ...problem })
  })

function queryProblems(
  query: unknown,
  path: (string | number)[],
): { message: string; path: (string | number)[] }[] {
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    return [{ message: 'a query is an object', path }]
  }
  const problems: { message: string; path: (string | number)[] }[] = []
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        problems.push({ message: `${key} takes a non-empty list of queries`, path: [...path, key] })
        continue
      }
      value.forEach((item, index) => {
        problems.push(...queryProblems(item, [...path, key, index]))
      })
      continue
    }
    if (!fieldPattern.test(key)) {
      problems.push({
        message: `unknown field "${key}": use metadata.<key>, params.<field> or url.pathname`,
        path: [...path, key],
      })
      continue
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue
    for (const [operator, operand] of Object.entries(value)) {
      const at = [...path, key, operator]
      if (!comparison.has(operator)) {
        problems.push({ message: `unknown operator ${operator}`, path: at })
      } else if ((operator === '$in' || operator === '$nin') && !Array.isArray(operand)) {
        problems.push({ message: `${operator} takes a list`, path: at })
      } else if (operator.startsWith('$g') || operator.startsWith('$l')) {
        if (!Number.isFinite(Number(operand)) || typeof operand === 'boolean' || operand === '') {
          problems.push({ message: `${operator} takes a number`, path: at })
        }
      } else if (operator === '$regex') {
        const message = regexProblem(operand)
        if (message !== undefined) problems.push({ message, path: at })
      }
    }
  }
  return problems
}

function regexProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return '$regex takes a string'
  if (pattern.length > 256) return '$regex patterns are limited to 256 characters'
  if (nestedQuantifier.test(pattern)) {
    return '$regex patterns may not nest quantifiers or use back-references'
  }
  try {
    new RegExp(pattern)
  } catch {
    return 'not a valid regular expression'
  }
  return undefined
}

/** Compiles a query validated by `conditionQuerySchema`. */
export function compileQuery(query: ConditionQuery): CompiledQuery {
  const checks: CompiledQuery[] = []
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and' || key === '$or') {
      const parts = (value as ConditionQuery[]).map(compileQuery)
      checks.push(
        key === '$and'
          ? (context) => parts.every((part) => part(context))
          : (context) => parts.some((part) => part(context)),
      )
      continue
    }
    const read = fieldReader(key)
    const operators =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(value)
        : [['$eq', value] as [string, unknown]]
    for (const [operator, operand] of operators) {
      const test = compileOperator(operator, operand)
      checks.push((context) => test(read(context)))
    }
  }
  return (context) => checks.every((check) => check(context))
}

function fieldReader(key: string): (context: ConditionContext) => unknown {
  const [root, ...rest] = key.split('.')
  return (context) => {
    let current: unknown =
      root === 'metadata' ? context.metadata : root === 'params' ? context.params : context.url
    for (const part of rest) {
      if (current === null || typeof current !== 'object') return undefined
      current = Object.hasOwn(current, part)
        ? (current as Record<string, unknown>)[part]
        : undefined
    }
    return current
  }
}

function compileOperator(operator: string, operand: unknown): (value: unknown) => boolean {
  switch (operator) {
    case '$eq':
      return (value) => same(value, operand)
    case '$ne':
      return (value) => !same(value, operand)
    case '$in':
      return (value) => (operand as unknown[]).some((item) => same(value, item))
    case '$nin':
      return (value) => !(operand as unknown[]).some((item) => same(value, item))
    case '$gt':
      return numeric(operand, (value, bound) => value > bound)
    case '$gte':
      return numeric(operand, (value, bound) => value >= bound)
    case '$lt':
      return numeric(operand, (value, bound) => value < bound)
    case '$lte':
      return numeric(operand, (value, bound) => value <= bound)
    default: {
      const regex = new RegExp(operand as string)
      return (value) =>
        typeof value === 'string' && value.length <= regexValueLimit && regex.test(value)
    }
  }
}

/** Metadata values are strings: `"5"` equals `5`, as a client sending numbers would expect. */
function same(value: unknown, operand: unknown): boolean {
  if (value === operand) return true
  if (typeof value === 'string' && typeof operand !== 'string' && operand !== null) {
    return value === String(operand)
  }
  return false
}

function numeric(
  operand: unknown,
  compare: (value: number, bound: number) => boolean,
): (value: unknown) => boolean {
  const bound = Number(operand)
  return (value) => {
    if (typeof value !== 'number' && typeof value !== 'string') return false
    if (value === '') return false
    const number = Number(value)
    return Number.isFinite(number) && compare(number, bound)
  }
}
