import { describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import type { Item, ScoreMatrix } from '../../src/core/item.js';
import { parseWhatsUpImagePath, type WhatsUpVariant } from '../../src/benchmarks/whatsup/loader.js';
import { argmaxFirst, whatsupControlledMetrics, whatsupItemCorrect } from '../../src/benchmarks/whatsup/metrics.js';

/** An item as loadWhatsUpControlled builds it, from a real-looking image_path. */
function makeItem(row: number, imagePath: string, variant: WhatsUpVariant = 'A', subset = 'controlled_a'): Item {
  const info = parseWhatsUpImagePath(imagePath, variant);
  if (typeof info === 'string') throw new Error(info);
  return {
    id: `whatsup.${subset}/${row}`,
    benchmark: 'whatsup',
    subset,
    images: [`/data/${imagePath}`],
    options: ['c0', 'c1', 'c2', 'c3'],
    correct: 0,
    groups: { variant, preposition: info.preposition, set: info.set, slot: info.slot, pair: info.pair },
    source: { file: 'x.json', row },
    meta: { obj1: info.obj1, obj2: info.obj2 },
  };
}

const RIGHT: ScoreMatrix = [[0.9, 0.1, 0.2, 0.3]];
const WRONG: ScoreMatrix = [[0.1, 0.9, 0.2, 0.3]];
const TIE_WITH_0: ScoreMatrix = [[0.5, 0.2, 0.5, 0.1]]; // argmax = 0 → correct

const A_FILES = [
  'data/controlled_images/mug_left_of_table.jpeg',
  'data/controlled_images/mug_right_of_table.jpeg',
  'data/controlled_images/mug_on_table.jpeg',
  'data/controlled_images/mug_under_table.jpeg',
  'data/controlled_images/beer-bottle_left_of_armchair.jpeg',
  'data/controlled_images/beer-bottle_right_of_armchair.jpeg',
  'data/controlled_images/beer-bottle_on_armchair.jpeg',
  'data/controlled_images/beer-bottle_under_armchair.jpeg',
];

describe('whatsupItemCorrect (np.argmax == 0)', () => {
  it('takes the first maximum, so a tie with option 0 counts as correct', () => {
    expect(whatsupItemCorrect([1, 0, 0, 0])).toBe(true);
    expect(whatsupItemCorrect([1, 1, 0, 0])).toBe(true);
    expect(whatsupItemCorrect([0.5, 0.5, 0.5, 0.5])).toBe(true);
    expect(whatsupItemCorrect([0, 1, 1, 0])).toBe(false);
    expect(whatsupItemCorrect([0.2, 0.3, 0.1, 0.0])).toBe(false);
    expect(argmaxFirst([0, 1, 1, 0])).toBe(1);
  });

  it('treats NaN as the maximum like numpy (first NaN wins)', () => {
    expect(argmaxFirst([Number.NaN, 5, 1, 0])).toBe(0);
    expect(whatsupItemCorrect([Number.NaN, 5, 1, 0])).toBe(true);
    expect(argmaxFirst([9, 1, Number.NaN, Number.NaN])).toBe(2);
    expect(whatsupItemCorrect([9, 1, Number.NaN, 0])).toBe(false);
    expect(whatsupItemCorrect([-Infinity, -Infinity, -Infinity, -Infinity])).toBe(true);
  });

  it('rejects an empty row', () => {
    expect(() => whatsupItemCorrect([])).toThrow(PerceiveError);
  });
});

describe('whatsupControlledMetrics', () => {
  it('computes individual, pair, set and per-preposition accuracy as evaluate_scores does', () => {
    const items = A_FILES.map((f, i) => makeItem(i, f));
    // Set mug/table: all four correct (one by a tie with option 0).
    // Set beer-bottle/armchair: left correct, right wrong, on correct, under correct.
    const rows = [RIGHT, TIE_WITH_0, RIGHT, RIGHT, RIGHT, WRONG, RIGHT, RIGHT];
    const scores = new Map(items.map((it, i) => [it.id, rows[i] as ScoreMatrix]));
    const m = whatsupControlledMetrics(items, scores);
    expect(m.variant).toBe('A');
    expect(m.n).toBe(8);
    expect(m.nMissing).toBe(0);
    expect(m.individual).toEqual({ correct: 7, total: 8, accuracy: 7 / 8 });
    // pairs: mug L/R, mug on/under, beer-bottle on/under = 3 of N/2 = 4
    expect(m.pair).toEqual({ correct: 3, total: 4, accuracy: 0.75, excludedPairs: 0 });
    // sets: mug only = 1 of N/4 = 2
    expect(m.set).toEqual({ correct: 1, total: 2, accuracy: 0.5, excludedSets: 0 });
    expect(m.perPreposition).toEqual([
      { preposition: 'left_of', accuracy: 1, count: 2, correct: 2, missing: 0 },
      { preposition: 'on', accuracy: 1, count: 2, correct: 2, missing: 0 },
      { preposition: 'right_of', accuracy: 0.5, count: 2, correct: 1, missing: 0 },
      { preposition: 'under', accuracy: 1, count: 2, correct: 2, missing: 0 },
    ]);
    expect(m.correctById['whatsup.controlled_a/1']).toBe(true);
    expect(m.correctById['whatsup.controlled_a/5']).toBe(false);
  });

  it('a tie between two wrong options above option 0 is wrong; all-equal scores are right', () => {
    const items = A_FILES.slice(0, 4).map((f, i) => makeItem(i, f));
    const rows: ScoreMatrix[] = [[[1, 1, 1, 1]], [[0, 2, 2, 0]], [[3, 3, 0, 0]], [[0, 0, 0, 0]]];
    const m = whatsupControlledMetrics(items, new Map(items.map((it, i) => [it.id, rows[i] as ScoreMatrix])));
    expect(m.individual.correct).toBe(3);
    expect(m.pair.correct).toBe(1); // on/under both right, left/right not
    expect(m.set.correct).toBe(0);
    expect(m.set.total).toBe(1);
  });

  it('divides by N/2 and N/4 even when N is not a multiple of 4 (a shortened file)', () => {
    const items = A_FILES.slice(0, 6).map((f, i) => makeItem(i, f));
    const scores = new Map(items.map((it) => [it.id, RIGHT]));
    const m = whatsupControlledMetrics(items, scores);
    expect(m.individual.accuracy).toBe(1);
    // mug: L/R + on/under; beer-bottle: L/R → 3 pairs over 6/2 = 3
    expect(m.pair).toMatchObject({ correct: 3, total: 3, accuracy: 1 });
    // only mug has all four → 1 over 6/4 = 1.5
    expect(m.set).toMatchObject({ correct: 1, total: 1.5 });
    expect(m.set.accuracy).toBeCloseTo(2 / 3, 12);
  });

  it('excludes pairs and sets with a missing member and reports the missing items', () => {
    const items = A_FILES.map((f, i) => makeItem(i, f));
    const rows = [RIGHT, RIGHT, RIGHT, RIGHT, RIGHT, WRONG, RIGHT, RIGHT];
    const scores = new Map(items.map((it, i) => [it.id, rows[i] as ScoreMatrix]));
    scores.delete('whatsup.controlled_a/2'); // mug_on_table failed
    const m = whatsupControlledMetrics(items, scores);
    expect(m.n).toBe(7);
    expect(m.nMissing).toBe(1);
    expect(m.missingIds).toEqual(['whatsup.controlled_a/2']);
    expect(m.individual).toEqual({ correct: 6, total: 7, accuracy: 6 / 7 });
    // mug on/under excluded: mug L/R (correct) + beer-bottle L/R (wrong) + beer-bottle on/under (correct)
    // over (7 - 1 present member of the excluded pair) / 2 = 3
    expect(m.pair).toEqual({ correct: 2, total: 3, accuracy: 2 / 3, excludedPairs: 1 });
    // mug set excluded; beer-bottle set is not all correct; (7 - 3) / 4 = 1
    expect(m.set).toEqual({ correct: 0, total: 1, accuracy: 0, excludedSets: 1 });
    expect(m.perPreposition.find((r) => r.preposition === 'on')).toEqual({
      preposition: 'on',
      accuracy: 1,
      count: 1,
      correct: 1,
      missing: 1,
    });
  });

  it('all items of a preposition missing gives a null accuracy, and no items scored gives nulls', () => {
    const items = A_FILES.slice(0, 4).map((f, i) => makeItem(i, f));
    const m = whatsupControlledMetrics(items, new Map());
    expect(m.n).toBe(0);
    expect(m.nMissing).toBe(4);
    expect(m.individual.accuracy).toBeNull();
    expect(m.pair).toMatchObject({ correct: 0, total: 0, accuracy: null, excludedPairs: 2 });
    expect(m.set).toMatchObject({ correct: 0, total: 0, accuracy: null, excludedSets: 1 });
    expect(m.perPreposition.every((r) => r.accuracy === null && r.missing === 1)).toBe(true);
  });

  it('Controlled B pairs in-front with behind', () => {
    const files = [
      'data/controlled_clevr/book_left_of_can.jpeg',
      'data/controlled_clevr/book_right_of_can.jpeg',
      'data/controlled_clevr/book_in-front_of_can.jpeg',
      'data/controlled_clevr/book_behind_can.jpeg',
    ];
    const items = files.map((f, i) => makeItem(i, f, 'B', 'controlled_b'));
    expect(items.map((it) => it.groups.slot)).toEqual(['left', 'right', 'in-front', 'behind']);
    const rows = [WRONG, RIGHT, RIGHT, RIGHT];
    const m = whatsupControlledMetrics(items, new Map(items.map((it, i) => [it.id, rows[i] as ScoreMatrix])));
    expect(m.variant).toBe('B');
    expect(m.individual.accuracy).toBe(0.75);
    expect(m.pair).toMatchObject({ correct: 1, total: 2, accuracy: 0.5 });
    expect(m.set).toMatchObject({ correct: 0, total: 1, accuracy: 0 });
    expect(m.perPreposition.map((r) => r.preposition)).toEqual(['behind', 'in-front_of', 'left_of', 'right_of']);
  });

  it('rejects malformed score matrices and mixed subsets', () => {
    const items = A_FILES.slice(0, 2).map((f, i) => makeItem(i, f));
    const twoImages = new Map<string, ScoreMatrix>([
      [items[0]!.id, [RIGHT[0]!, RIGHT[0]!]],
      [items[1]!.id, RIGHT],
    ]);
    expect(() => whatsupControlledMetrics(items, twoImages)).toThrow(/1 image row/);
    const threeOptions = new Map<string, ScoreMatrix>([[items[0]!.id, [[1, 0, 0]]]]);
    expect(() => whatsupControlledMetrics(items, threeOptions)).toThrow(/4 option scores/);
    const other = makeItem(9, 'data/controlled_clevr/book_behind_can.jpeg', 'B', 'controlled_b');
    expect(() => whatsupControlledMetrics([...items, other], new Map())).toThrow(PerceiveError);
  });
});
