/** Weighted random choice: a target with weight 3 is picked three times as often as one with 1. */
export interface Weighted {
  weight: number
}

/** `random` returns a number in [0, 1), like Math.random. Undefined when no weight is above 0. */
export function pickWeighted<Target extends Weighted>(
  targets: readonly Target[],
  random: () => number,
): Target | undefined {
  let total = 0
  for (const target of targets) total += Math.max(0, target.weight)
  if (total <= 0) return undefined
  let point = random() * total
  let last: Target | undefined
  for (const target of targets) {
    if (target.weight <= 0) continue
    if (point < target.weight) return target
    point -= target.weight
    last = target
  }
  // Floating-point rounding can leave the point a hair past the end: it belongs to the last.
  return last
}
