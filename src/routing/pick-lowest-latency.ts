/**
 * `balance: lowest_latency`: the target with the lowest moving average time to first byte. A
 * target never measured goes first, so every target gets measured; ties go by weight.
 */
import { pickWeighted, type Weighted } from './pick-weighted.ts'

export function pickLowestLatency<Target extends Weighted>(
  targets: readonly Target[],
  latency: (target: Target) => number | undefined,
  random: () => number,
): Target | undefined {
  let lowest = Number.POSITIVE_INFINITY
  let fastest: Target[] = []
  for (const target of targets) {
    if (target.weight <= 0) continue
    const milliseconds = latency(target) ?? -1
    if (milliseconds < lowest) {
      lowest = milliseconds
      fastest = [target]
    } else if (milliseconds === lowest) {
      fastest.push(target)
    }
  }
  return pickWeighted(fastest, random)
}
