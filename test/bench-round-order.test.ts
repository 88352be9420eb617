import assert from 'node:assert/strict'
import { test } from 'node:test'
import { roundOrder } from '../bench/scenarios.ts'

test('bench rounds: every target once a round, in every position as often, behind every other', () => {
  for (const count of [2, 3, 4, 5, 6]) {
    const targets = [...Array(count).keys()]
    // A full cycle of the design: `count` rounds, twice that for an odd count.
    const rounds = count % 2 === 0 ? count : 2 * count
    const positions = new Map<number, number[]>()
    const behind = new Map<number, Set<number | undefined>>()
    for (let round = 0; round < rounds; round++) {
      const order = roundOrder(targets, round)
      assert.deepEqual([...order].sort(), targets, `round ${round} of ${count}`)
      order.forEach((target, index) => {
        positions.set(target, [...(positions.get(target) ?? []), index])
        behind.set(target, (behind.get(target) ?? new Set()).add(order[index - 1]))
      })
    }
    for (const [target, seen] of positions) {
      const perPosition = rounds / count
      for (let position = 0; position < count; position++) {
        const times = seen.filter((at) => at === position).length
        assert.equal(times, perPosition, `${target} of ${count} at position ${position}`)
      }
    }
    // Every other target, and the start of a round.
    for (const [target, seen] of behind) {
      assert.equal(seen.size, count, `${target} of ${count} follows only ${[...seen]}`)
    }
  }
})
