import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RequestAbort, whenAborted } from './request-abort.ts'

describe('request abort hooks', () => {
  test("a RequestAbort's hooks run once, after the signal is aborted, unless unhooked", () => {
    const abort = new RequestAbort()
    const seen: string[] = []
    whenAborted(abort.signal, () => seen.push(`first ${abort.signal.aborted}`))
    const unhook = whenAborted(abort.signal, () => seen.push('unhooked'))
    whenAborted(abort.signal, () => seen.push(`reason ${String(abort.signal.reason)}`))
    abort.signal.addEventListener('abort', () => seen.push('listener'))
    unhook()
    abort.abort('gone')
    abort.abort('again')
    assert.deepEqual(seen, ['listener', 'first true', 'reason gone'])
  })

  test('any other signal gets a listener, removed by the function returned', () => {
    const plain = new AbortController()
    const calls: string[] = []
    const unhook = whenAborted(plain.signal, () => calls.push('kept'))
    whenAborted(plain.signal, () => calls.push('second'))()
    plain.abort()
    plain.abort()
    assert.deepEqual(calls, ['kept'])
    unhook() // after the abort: harmless
    const timeout = AbortSignal.timeout(1)
    return new Promise<void>((resolve) => {
      whenAborted(timeout, resolve)
    })
  })
})
