import { describe, expect, it } from 'vitest';
import type { PositionBias } from '../../src/analysis/position-bias.js';
import { letterRows, unionLetters } from '../../src/report/position-bias-rows.js';

const bias = (prompts: number, positions: PositionBias['positions']): PositionBias => ({
  benchmark: 'mmvp',
  arm: 'vlm.generate',
  option_orders: ['circular'],
  prompts,
  positions,
  no_pick: 0,
  preferred: 'a',
});

describe('position-bias letter rows', () => {
  const x = bias(8, [
    { position: 0, letter: 'a', picked: 6, correct_here: 4, picked_and_right: 3 },
    { position: 1, letter: 'b', picked: 2, correct_here: 4, picked_and_right: 1 },
  ]);
  const y = bias(0, [{ position: 2, letter: 'c', picked: 0, correct_here: 0, picked_and_right: 0 }]);

  it("gives each letter's counts and shares of the prompts, in the table's own letter order by default", () => {
    expect(letterRows(x)).toEqual([
      { letter: 'a', picked: 6, correctHere: 4, pickedAndRight: 3, pickedShare: 0.75, correctShare: 0.5 },
      { letter: 'b', picked: 2, correctHere: 4, pickedAndRight: 1, pickedShare: 0.25, correctShare: 0.5 },
    ]);
  });

  it('counts zero for a letter the table lacks, and has no share without prompts', () => {
    const letters = unionLetters(y, x);
    expect(letters).toEqual(['a', 'b', 'c']);
    expect(letterRows(x, letters)[2]).toEqual({ letter: 'c', picked: 0, correctHere: 0, pickedAndRight: 0, pickedShare: 0, correctShare: 0 });
    expect(letterRows(y, letters)[0]).toEqual({ letter: 'a', picked: 0, correctHere: 0, pickedAndRight: 0, pickedShare: null, correctShare: null });
  });
});
