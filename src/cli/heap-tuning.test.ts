import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { releaseStartupMemory } from './heap-tuning.ts'

test('releaseStartupMemory runs a full collection and leaves no gc function behind', async () => {
  let garbage: object | undefined = { startup: new Array(10_000).fill('config') }
  const watched = new WeakRef(garbage)
  garbage = undefined
  // A WeakRef keeps its target alive until the current job ends.
  await nextTurn()
  releaseStartupMemory()
  assert.equal(watched.deref(), undefined)
  assert.equal('gc' in globalThis, false)
})
