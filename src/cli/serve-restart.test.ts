import assert from 'node:assert/strict'
import { test } from 'node:test'
import { serveRestart } from './serve-restart.ts'

test('serve gets the semi-space limit in front of its own node arguments, and two arenas', () => {
  const restart = serveRestart('serve', ['--enable-source-maps'], { HOME: '/root' }, 'linux')
  assert.deepEqual(restart, {
    execArgv: ['--max-semi-space-size=16', '--enable-source-maps'],
    env: { HOME: '/root', MALLOC_ARENA_MAX: '2' },
  })
})

test('a semi-space limit the user gave, on the command line or in NODE_OPTIONS, is kept', () => {
  assert.deepEqual(serveRestart('serve', ['--max-semi-space-size=64'], {}, 'linux')?.execArgv, [
    '--max-semi-space-size=64',
  ])
  const options = { NODE_OPTIONS: '--max-semi-space-size=4 --trace-gc' }
  assert.deepEqual(serveRestart('serve', [], options, 'linux'), {
    execArgv: [],
    env: { ...options, MALLOC_ARENA_MAX: '2' },
  })
})

test('an arena count the user set is kept, and with both set nothing restarts', () => {
  const env = { MALLOC_ARENA_MAX: '8' }
  assert.equal(serveRestart('serve', ['--max-semi-space-size=16'], env, 'linux'), undefined)
  assert.deepEqual(serveRestart('serve', [], env, 'linux')?.env, env)
})

test('off Linux only the semi-space limit is set', () => {
  assert.deepEqual(serveRestart('serve', [], {}, 'darwin'), {
    execArgv: ['--max-semi-space-size=16'],
    env: {},
  })
  assert.equal(serveRestart('serve', ['--max-semi-space-size=16'], {}, 'darwin'), undefined)
})

test('other commands run as they are', () => {
  assert.equal(serveRestart('check', [], {}, 'linux'), undefined)
  assert.equal(serveRestart(undefined, [], {}, 'linux'), undefined)
})
