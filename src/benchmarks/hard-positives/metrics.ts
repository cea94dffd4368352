/**
 * Hard-positives metrics, ported (not copied) from
 * `amitakamath/hard_positives@33addaae84b58d96dc8e9251b61d497c536ed23d:run_eval.py` `main`.
 *
 * run_eval.py scores the data/ file (`orig_scores[i][0] = [s(c_n), s(c)]`) and the swapped_data/
 * file (`mod_scores[i][0] = [s(c_n), s(c_p)]`) and, writing o = orig_scores[i][0] and
 * m = mod_scores[i][0], counts (all comparisons strict, N = number of rows):
 * - `orig_acc` = #(o[0] < o[1]) / N — Original Test Accuracy (c beats c_n);
 * - `mod_acc` = #(m[0] < m[1]) / N — c_p beats c_n;
 * - "(c, c'') > c'": #(m[0] < m[1] and m[0] < o[1]) — Augmented Test Accuracy's numerator;
 * - "c > c' > c''": #(o[1] > m[0] and m[0] > m[1]);
 * - "c'' > c' > c": #(m[1] > m[0] and m[0] > o[1]);
 * - "c' > (c, c'')": #(m[0] > m[1] and m[0] > o[1]);
 * - ties "c' == c or c' == c''": #(m[0] == m[1] or m[0] == o[1]);
 * - `avg_diff` = mean |o[1] − m[1]| (computed, print commented out).
 * run_eval.py prints the counts; the README calls them Original Test Accuracy, Augmented Test
 * Accuracy and Brittleness "(refer to Section 4.1)". Here: augmented = "(c, c'') > c'" / N and
 * brittleness = ("c > c' > c''" + "c'' > c' > c") / N, the hard negative between the two positives
 * (our reading of Section 4.1; the raw counts are reported beside it).
 *
 * Our items have one score row `[s(c_n), s(c), s(c_p)]`, so o = [r0, r1] and m = [r0, r2] (the same
 * negative caption scored once). A 4-column row `[s(c_n), s(c), s(c_n'), s(c_p)]` (the two files'
 * rows side by side, as `perceive metrics` accepts) gives o = [r0, r1], m = [r2, r3].
 * Missing items are left out of every count and of N.
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';

export interface HardPositiveTuple {
  o: [number, number];
  m: [number, number];
}

export function hardPositiveTuple(item: Item, matrix: ScoreMatrix): HardPositiveTuple {
  const row = matrix[0];
  if (matrix.length !== 1 || row === undefined || (row.length !== 3 && row.length !== 4)) {
    throw new PerceiveError(
      'hard-positives-bad-scores',
      `hard-positives item ${item.id}: expected 1 image row of 3 scores [c_n, c, c_p] (or 4: [c_n, c, c_n, c_p]), got ${matrix.length} row(s) of ${row?.length ?? 0}`,
    );
  }
  const r = row as number[];
  return row.length === 3
    ? { o: [r[0] as number, r[1] as number], m: [r[0] as number, r[2] as number] }
    : { o: [r[0] as number, r[1] as number], m: [r[2] as number, r[3] as number] };
}

/** Both positives strictly above the negative: "(c, c'') > c'". */
export function hardPositiveAugmentedCorrect(t: HardPositiveTuple): boolean {
  return t.m[0] < t.m[1] && t.m[0] < t.o[1];
}

export interface HardPositivesCount {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface HardPositivesMetrics {
  n: number;
  nMissing: number;
  original: HardPositivesCount;
  modified: HardPositivesCount;
  augmented: HardPositivesCount;
  brittleness: HardPositivesCount;
  counts: {
    bothPositivesAboveNegative: number;
    originalAboveNegativeAbovePositive: number;
    positiveAboveNegativeAboveOriginal: number;
    negativeAboveBoth: number;
    ties: number;
  };
  avgDiff: number | null;
}

export function hardPositivesMetrics(items: Item[], scores: Map<string, ScoreMatrix>): HardPositivesMetrics {
  let n = 0;
  let orig = 0;
  let mod = 0;
  let both = 0;
  let cAbove = 0;
  let pAbove = 0;
  let negAbove = 0;
  let ties = 0;
  let diff = 0;
  for (const item of items) {
    const m = scores.get(item.id);
    if (m === undefined) continue;
    const t = hardPositiveTuple(item, m);
    n += 1;
    if (t.o[0] < t.o[1]) orig += 1;
    if (t.m[0] < t.m[1]) mod += 1;
    if (hardPositiveAugmentedCorrect(t)) both += 1;
    if (t.o[1] > t.m[0] && t.m[0] > t.m[1]) cAbove += 1;
    if (t.m[1] > t.m[0] && t.m[0] > t.o[1]) pAbove += 1;
    if (t.m[0] > t.m[1] && t.m[0] > t.o[1]) negAbove += 1;
    if (t.m[0] === t.m[1] || t.m[0] === t.o[1]) ties += 1;
    diff += Math.abs(t.o[1] - t.m[1]);
  }
  const c = (k: number): HardPositivesCount => ({ correct: k, total: n, accuracy: n > 0 ? k / n : null });
  return {
    n,
    nMissing: items.length - n,
    original: c(orig),
    modified: c(mod),
    augmented: c(both),
    brittleness: c(cAbove + pAbove),
    counts: {
      bothPositivesAboveNegative: both,
      originalAboveNegativeAbovePositive: cAbove,
      positiveAboveNegativeAboveOriginal: pAbove,
      negativeAboveBoth: negAbove,
      ties,
    },
    avgDiff: n > 0 ? diff / n : null,
  };
}
