/** Compiles a `*`-glob (as used in key model allow-lists) to a matcher, once at start-up. */
export function compileGlob(pattern: string): (value: string) => boolean {
  if (pattern === '*') return () => true
  if (!pattern.includes('*')) return (value) => value === pattern
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
  const regex = new RegExp(`^${escaped.join('.*')}$`)
  return (value) => regex.test(value)
}

export function compileGlobs(patterns: readonly string[]): (value: string) => boolean {
  const matchers = patterns.map(compileGlob)
  return (value) => matchers.some((match) => match(value))
}
