/**
 * The configuration examples in the README and docs/ stay true: every YAML block that defines its
 * own providers is a whole config, and it must pass the schema (environment variables filled in).
 * Blocks without providers are fragments of such a config and are left to the prose around them.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parseConfig } from '../src/config/load.ts'

const files = [
  'README.md',
  'docs/routing.md',
  'docs/limits.md',
  'docs/storage.md',
  'docs/providers.md',
]

/** A value for any `${VARIABLE}`, shaped like what its name suggests. */
function placeholder(name: string): string {
  if (name.endsWith('_FILE')) return '/var/run/secrets/token'
  if (/ENDPOINT|URL|HOST/.test(name)) return 'https://example.invalid'
  if (name === 'PORT') return '8090'
  return 'placeholder-0123456789abcdef'
}

const environment = new Proxy<NodeJS.ProcessEnv>(
  {},
  {
    get: (_target, name) => (typeof name === 'string' ? placeholder(name) : undefined),
    has: () => true,
  },
)

test('every whole config in the README and docs passes the schema', () => {
  let checked = 0
  for (const file of files) {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')
    for (const [index, match] of [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].entries()) {
      const block = match[1]!
      if (!/^providers:/m.test(block)) continue
      assert.doesNotThrow(
        () => parseConfig(block, `${file} (YAML block ${index})`, environment),
        `${file}, YAML block ${index}`,
      )
      checked++
    }
  }
  assert.ok(checked >= 3, `only ${checked} whole configs found`)
})
