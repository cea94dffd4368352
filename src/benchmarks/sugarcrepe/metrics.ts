/**
 * SugarCrepe metric, ported (not copied) from
 * `RAIVNLab/sugar-crepe@0047054b243992f0fad63d6f64f7544862daf846:main_eval.py` (`text_retrieval`, `evaluate`):
 *
 * - `text_retrieval` returns `1 if pos_score.item() > neg_score.item() else 0`: the caption must score
 *   strictly above the negative caption; a tie is wrong.
 * - `evaluate`: per subset, `metrics[c] = correct_cnt / count` with `count = len(data_dict)`.
 * - The paper's table groups the seven subsets as REPLACE (object, attribute, relation), SWAP (object,
 *   attribute) and ADD (object, attribute); the per-category figure here is the plain mean of the
 *   category's subset accuracies (computed only over subsets that have scores), and `mean` the plain
 *   mean of all subset accuracies present.
 *
 * Our items have one score row `[s(caption), s(negative_caption)]` (a word-order option, if any, is
 * removed before this runs). Missing items (failed) are left out of the count (our rule; with nothing
 * missing, `count` is the authors' `len(data_dict)`).
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import { SUGARCREPE_CATEGORIES, SUGARCREPE_SUBSETS, sugarCrepeCategory } from './loader.js';

/** `text_retrieval`: 1 when the caption scores strictly above the negative. */
export function sugarCrepeCorrect(item: Item, matrix: ScoreMatrix): boolean {
  const row = matrix[0];
  if (matrix.length !== 1 || row === undefined || row.length !== 2) {
    throw new PerceiveError(
      'sugarcrepe-bad-scores',
      `SugarCrepe item ${item.id}: expected 1 image row of 2 scores [caption, negative_caption], got ${matrix.length} row(s) of ${row?.length ?? 0}`,
    );
  }
  return (row[0] as number) > (row[1] as number);
}

export interface SugarCrepeCount {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface SugarCrepeMetrics {
  n: number;
  nMissing: number;
  /** Per subset, in main_eval.py's order (only subsets with items). */
  perSubset: Array<{ subset: string; file: string | null } & SugarCrepeCount>;
  /** Mean of the category's subset accuracies (REPLACE, SWAP, ADD), over subsets with scores. */
  perCategory: Array<{ category: string; subsets: string[]; mean: number | null }>;
  /** Mean of all subset accuracies with scores. */
  mean: number | null;
  /** Pooled: all correct / all scored. */
  pooled: SugarCrepeCount;
}

const meanOf = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

export function sugarCrepeMetrics(items: Item[], scores: Map<string, ScoreMatrix>): SugarCrepeMetrics {
  const bySubset = new Map<string, { correct: number; total: number; file: string | null }>();
  let n = 0;
  let correctAll = 0;
  for (const item of items) {
    const subset = item.groups.subset ?? item.subset;
    let c = bySubset.get(subset);
    if (!c) bySubset.set(subset, (c = { correct: 0, total: 0, file: item.groups.file ?? null }));
    const m = scores.get(item.id);
    if (m === undefined) continue;
    n += 1;
    c.total += 1;
    if (sugarCrepeCorrect(item, m)) {
      c.correct += 1;
      correctAll += 1;
    }
  }
  const order = [...SUGARCREPE_SUBSETS, ...[...bySubset.keys()].filter((s) => !(SUGARCREPE_SUBSETS as readonly string[]).includes(s))];
  const perSubset = order
    .filter((s) => bySubset.has(s))
    .map((subset) => {
      const c = bySubset.get(subset) as { correct: number; total: number; file: string | null };
      return { subset, file: c.file, correct: c.correct, total: c.total, accuracy: c.total > 0 ? c.correct / c.total : null };
    });
  const accuracies = (filter: (s: string) => boolean) => perSubset.filter((s) => filter(s.subset) && s.accuracy !== null).map((s) => s.accuracy as number);
  const perCategory = SUGARCREPE_CATEGORIES.filter((cat) => perSubset.some((s) => sugarCrepeCategory(s.subset) === cat)).map((category) => ({
    category,
    subsets: perSubset.filter((s) => sugarCrepeCategory(s.subset) === category).map((s) => s.subset),
    mean: meanOf(accuracies((s) => sugarCrepeCategory(s) === category)),
  }));
  return {
    n,
    nMissing: items.length - n,
    perSubset,
    perCategory,
    mean: meanOf(accuracies(() => true)),
    pooled: { correct: correctAll, total: n, accuracy: n > 0 ? correctAll / n : null },
  };
}
