import type { Sample } from '../store/sample.js';
import { optionOrderRecord } from './option-order-extra.js';
import { groupSamples } from './sample-items.js';

/**
 * Position bias of a letter-scored arm on a benchmark: over every prompt it answered (each image
 * of each item under each presentation: circular counts every rotation), how often each letter
 * position was picked against how often the correct option sat there. An arm without bias picks
 * each position about as often as it is right; one that always says "A" picks position 0 every
 * time whatever the file says.
 */
export interface PositionBias {
  benchmark: string;
  arm: string;
  /** The effective option orders of the prompts counted (normally one). */
  option_orders: string[];
  /** Prompts counted (rounds × images of ok samples). */
  prompts: number;
  /** Per letter position: times picked, times correct there, and picked-and-right. */
  positions: Array<{ position: number; letter: string; picked: number; correct_here: number; picked_and_right: number }>;
  /** Prompts where no letter was picked (unparseable free answers). */
  no_pick: number;
  /** The most picked letter (first on ties), or null with no prompts. */
  preferred: string | null;
}

/** Position p's letter as MMVP writes it: a, b, c… */
export function positionLetter(p: number): string {
  return String.fromCharCode(97 + p);
}

export function positionBias(samples: Sample[]): PositionBias[] {
  const out: PositionBias[] = [];
  for (const [benchmark, byArm] of groupSamples(samples)) {
    for (const [arm, list] of byArm) {
      const picked: number[] = [];
      const here: number[] = [];
      const both: number[] = [];
      const orders = new Set<string>();
      let prompts = 0;
      let noPick = 0;
      const bump = (a: number[], p: number): void => {
        while (a.length <= p) a.push(0);
        a[p] = a[p]! + 1;
      };
      for (const s of list) {
        const r = optionOrderRecord(s);
        if (!r) continue;
        orders.add(r.option_order);
        const width = r.option_permutations[0]!.length;
        while (picked.length < width) picked.push(0);
        r.position_picks.forEach((row, round) =>
          row.forEach((p, image) => {
            prompts += 1;
            const c = r.position_correct[round]![image]!;
            if (c >= 0) bump(here, c);
            if (p < 0) {
              noPick += 1;
              return;
            }
            bump(picked, p);
            if (p === c) bump(both, p);
          }),
        );
      }
      if (prompts === 0) continue;
      const width = Math.max(picked.length, here.length);
      const positions = Array.from({ length: width }, (_, p) => ({
        position: p,
        letter: positionLetter(p),
        picked: picked[p] ?? 0,
        correct_here: here[p] ?? 0,
        picked_and_right: both[p] ?? 0,
      }));
      let best = 0;
      for (const p of positions) if (p.picked > positions[best]!.picked) best = p.position;
      out.push({
        benchmark,
        arm,
        option_orders: [...orders].sort(),
        prompts,
        positions,
        no_pick: noPick,
        preferred: positions.length > 0 && prompts > noPick ? positionLetter(best) : null,
      });
    }
  }
  return out;
}
