import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'

// Modules Node loads only when something asks for them, which the gateway never uses. An ESM
// import of node:http or node:crypto would load them (src/core/builtins.ts says why).
const unused = ['internal/deps/undici/undici', 'internal/crypto/webcrypto']

test('loading the gateway leaves Node’s fetch, WebSocket and WebCrypto unloaded', () => {
  const script = `
    await import(${JSON.stringify(new URL('../src/cli/main.ts', import.meta.url).href)})
    const loaded = new Set(process.moduleLoadList)
    console.log(JSON.stringify(${JSON.stringify(unused)}.filter((id) => loaded.has('NativeModule ' + id))))
  `
  const output = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
    encoding: 'utf8',
  })
  assert.deepEqual(JSON.parse(output), [])
})
