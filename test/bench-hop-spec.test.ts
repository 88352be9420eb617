import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseHopSpec } from '../bench/hop-spec.ts'

test('bench:ab hop specs: a kind, another build, node flags', () => {
  assert.deepEqual(parseHopSpec('base=bare'), {
    name: 'base',
    kind: 'bare',
    script: undefined,
    nodeFlags: [],
  })
  assert.deepEqual(
    parseHopSpec('next=full@/tmp/wt/dist/bin/switchyard.js,--max-semi-space-size=4'),
    {
      name: 'next',
      kind: 'full',
      script: '/tmp/wt/dist/bin/switchyard.js',
      nodeFlags: ['--max-semi-space-size=4'],
    },
  )
  // A flag's own '=' is not the name's.
  assert.deepEqual(parseHopSpec('p=proxy,--max-old-space-size=64,--no-opt'), {
    name: 'p',
    kind: 'proxy',
    script: undefined,
    nodeFlags: ['--max-old-space-size=64', '--no-opt'],
  })
  assert.deepEqual(parseHopSpec('floor=proxy@bench/minimal-gateway.ts'), {
    name: 'floor',
    kind: 'proxy',
    script: 'bench/minimal-gateway.ts',
    nodeFlags: [],
  })
})

test('bench:ab hop specs: what is wrong is said, not run', () => {
  for (const [word, complaint] of [
    ['bare', /expected name=kind/],
    ['=bare', /expected name=kind/],
    ['a b=bare', /a name is/],
    ['x=direct', /proxy, full or bare \(got "direct"\)/],
    ['x=bare@', /@ names a script/],
    ['x=bare,max-semi-space-size=4', /not a node flag/],
  ] as const) {
    const parsed = parseHopSpec(word)
    assert.equal(typeof parsed, 'string', word)
    assert.match(parsed as string, complaint, word)
  }
})
