import type { Sample } from '../store/sample.js';
import { groupSamples } from './sample-items.js';

/** The 2x2 of items for one arm against the baseline (CLIP), on the items both answered. */
export interface ItemComparison {
  benchmark: string;
  arm: string;
  baseline: string;
  /** Items both arms answered (failed items are excluded and counted apart). */
  n: number;
  both: number;
  onlyArm: number;
  onlyBaseline: number;
  neither: number;
  excluded: number;
  /** Item ids where the arm is right and the baseline wrong, and the reverse. */
  armWins: string[];
  baselineWins: string[];
}

/** Item ids in numeric order (`x/2` before `x/10`); one collator, as `localeCompare(y, 'en', { numeric: true })` orders. */
const byNumericId = new Intl.Collator('en', { numeric: true }).compare;

export function compareItems(samples: Sample[], baseline: string): ItemComparison[] {
  const out: ItemComparison[] = [];
  for (const [benchmark, byArm] of groupSamples(samples)) {
    const base = byArm.get(baseline);
    if (!base) continue;
    const baseById = new Map(base.map((s) => [s.item, s]));
    for (const [arm, list] of byArm) {
      if (arm === baseline) continue;
      const c: ItemComparison = {
        benchmark,
        arm,
        baseline,
        n: 0,
        both: 0,
        onlyArm: 0,
        onlyBaseline: 0,
        neither: 0,
        excluded: 0,
        armWins: [],
        baselineWins: [],
      };
      const ids = new Set([...list.map((s) => s.item), ...baseById.keys()]);
      const armById = new Map(list.map((s) => [s.item, s]));
      for (const id of [...ids].sort(byNumericId)) {
        const a = armById.get(id);
        const b = baseById.get(id);
        if (!a || !b || a.correct === null || b.correct === null) {
          c.excluded += 1;
          continue;
        }
        c.n += 1;
        if (a.correct && b.correct) c.both += 1;
        else if (a.correct) {
          c.onlyArm += 1;
          c.armWins.push(id);
        } else if (b.correct) {
          c.onlyBaseline += 1;
          c.baselineWins.push(id);
        } else c.neither += 1;
      }
      out.push(c);
    }
  }
  return out;
}
