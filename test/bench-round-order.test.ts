import assert from 'node:assert/strict'
import { test } from 'node:test'
import { roundOrder } from '../bench/scenarios.ts'

test('each bench round runs every target once, in every position once, after varied neighbours', () => {
  for (const count of [2, 3, 4, 5]) {
    const targets = [...Array(count).keys()]
    const before = new Map<number, Set<number | undefined>>()
    const positions = new Map<number, Set<number>>()
    for (let round = 0; round < count; round++) {
      const order = roundOrder(targets, round)
      assert.deepEqual([...order].sort(), targets, `round ${round} of ${count}`)
      order.forEach((target, index) => {
        positions.set(target, (positions.get(target) ?? new Set()).add(index))
      })
      order.forEach((target, index) => {
        const seen = before.get(target) ?? new Set()
        seen.add(order[index - 1])
        before.set(target, seen)
      })
    }
    // Over five rounds every target starts a round or follows at least two different targets.
    for (const [target, seen] of before)
      assert.ok(seen.size >= 2, `${target} of ${count}: ${[...seen]}`)
  }
})
