import { mulberry32 } from '../core/seeded-random.js';

/**
 * Grouped k-fold assignment: every row of one group lands in the same fold, so the probe is never
 * tested on a group (a What'sUp object pair, an MMVP-VLM pair, an ARO image) it was trained on.
 * The groups are shuffled with the seed, then, largest first (ties keep the shuffled order), each
 * goes to the fold holding the fewest rows so far (scikit-learn's GroupKFold rule, seeded).
 * Fewer groups than `folds` give one fold per group.
 *
 * Returns the fold (0..folds−1) of each row.
 */
export function groupedFolds(groups: readonly string[], folds: number, seed: number): number[] {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`folds must be an integer ≥ 2 (got ${folds})`);
  const sizes = new Map<string, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  const unique = [...sizes.keys()].sort();
  const rand = mulberry32(seed);
  for (let i = unique.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [unique[i], unique[j]] = [unique[j]!, unique[i]!];
  }
  const order = unique.map((g, i) => ({ g, i, size: sizes.get(g)! })).sort((a, b) => b.size - a.size || a.i - b.i);
  const k = Math.min(folds, unique.length);
  const load = new Array<number>(k).fill(0);
  const foldOf = new Map<string, number>();
  for (const { g, size } of order) {
    let best = 0;
    for (let f = 1; f < k; f++) if (load[f]! < load[best]!) best = f;
    foldOf.set(g, best);
    load[best]! += size;
  }
  return groups.map((g) => foldOf.get(g)!);
}
