/** `balance: least_busy`: the target with the fewest requests in flight; ties go by weight. */
import { pickWeighted, type Weighted } from './pick-weighted.ts'

export function pickLeastBusy<Target extends Weighted>(
  targets: readonly Target[],
  inFlight: (target: Target) => number,
  random: () => number,
): Target | undefined {
  let fewest = Number.POSITIVE_INFINITY
  let idlest: Target[] = []
  for (const target of targets) {
    if (target.weight <= 0) continue
    const count = inFlight(target)
    if (count < fewest) {
      fewest = count
      idlest = [target]
    } else if (count === fewest) {
      idlest.push(target)
    }
  }
  return pickWeighted(idlest, random)
}
