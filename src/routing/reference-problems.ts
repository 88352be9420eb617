/**
 * Cross-section checks of routing in the config file: every provider a route tree names (at any
 * depth, in models and saved configs) is defined, and a model's `route` given as a string names a
 * saved config. Reads the raw document loosely, like the rest of `referenceProblems`, so these
 * are reported alongside schema errors.
 */
type Path = (string | number)[]

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}

export function routeReferenceProblems(root: Record<string, unknown>): {
  path: Path
  message: string
}[] {
  const problems: { path: Path; message: string }[] = []
  const providers = asRecord(root.providers)
  const configs = asRecord(root.configs)
  const defined = Object.keys(providers).join(', ') || 'none'

  function walk(node: unknown, path: Path): void {
    const current = asRecord(node)
    if (Array.isArray(current.targets)) {
      current.targets.forEach((child, index) => {
        walk(child, [...path, 'targets', index])
      })
      return
    }
    for (const field of ['virtual_key', 'provider'] as const) {
      const value = current[field]
      if (typeof value !== 'string') continue
      const name = value.startsWith('@') ? value.slice(1) : value
      if (!(name in providers)) {
        problems.push({
          path: [...path, field],
          message: `unknown provider "${name}"; defined: ${defined}`,
        })
      }
      // virtual_key wins over provider: the provider field beside it is not a reference.
      return
    }
  }

  for (const [id, config] of Object.entries(configs)) walk(config, ['configs', id])
  const models = Array.isArray(root.models) ? root.models : []
  models.forEach((item, index) => {
    const route = asRecord(item).route
    const path: Path = ['models', index, 'route']
    if (typeof route === 'string') {
      if (!(route in configs)) {
        const saved = Object.keys(configs).join(', ') || 'none'
        problems.push({
          path,
          message: `no saved config "${route}" under configs; saved: ${saved}`,
        })
      }
      return
    }
    walk(route, path)
  })
  return problems
}
