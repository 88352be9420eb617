import assert from 'node:assert/strict'
import { test } from 'node:test'
import { youngGenerationArgs } from './young-generation.ts'

test('serve gets the semi-space limit in front of its own node arguments', () => {
  assert.deepEqual(youngGenerationArgs('serve', ['--enable-source-maps'], undefined), [
    '--max-semi-space-size=16',
    '--enable-source-maps',
  ])
})

test('a limit the user gave, on the command line or in NODE_OPTIONS, is kept', () => {
  assert.equal(youngGenerationArgs('serve', ['--max-semi-space-size=64'], undefined), undefined)
  assert.equal(youngGenerationArgs('serve', [], '--max-semi-space-size=4 --trace-gc'), undefined)
})

test('other commands run as they are', () => {
  assert.equal(youngGenerationArgs('check', [], undefined), undefined)
  assert.equal(youngGenerationArgs(undefined, [], undefined), undefined)
})
