/**
 * What'sUp COCO-QA / VG-QA metrics in both conventions.
 *
 * `whatsup_vlms`: ported (not copied) from
 * `amitakamath/whatsup_vlms@7c1f2550eace32e7b8c77de5a792347c402960d1:dataset_zoo/aro_datasets.py`,
 * `COCO_QA.evaluate_scores` and `VG_QA.evaluate_scores` (identical but for the labels):
 * `preds = np.argmax(scores)`, correct iff `preds == 0` (the first maximum: a tie counts as RIGHT);
 * Accuracy = mean(correct); result_records per label of `all_prepositions` in `np.unique` (sorted)
 * order with `Accuracy` and `Count`. (`prep_counts` is computed but neither printed nor returned.)
 *
 * `clip_embeds`: ported from
 * `lst627/CLIP-Embeds@1c73a50a153ccc9d89e2eddabb69f8cc05f1a0be:Patch-Aligned-Contrastive-Learning/eval_clip.py`,
 * `eval_COCO_VG`: correct iff `p[0] > p[1]` (strict: a tie is WRONG); counts per gold word;
 * Individual = Σ correct / Σ total; "Left Right" individual = (left + right) / (their totals), and
 * "Top Bottom", "Above Below", "Front Behind" likewise, each printed only when its total is > 0
 * (Left Right is printed always; with no left/right rows their code divides by zero: null here).
 *
 * Missing items (no scores) are left out of numerators and denominators in both.
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import { argmaxFirst } from './metrics.js';

const ratio = (c: number, t: number): number | null => (t > 0 ? c / t : null);

function rowOf(item: Item, m: ScoreMatrix): number[] {
  const row = m[0];
  if (m.length !== 1 || row === undefined || row.length !== 2) {
    throw new PerceiveError(
      'whatsup-bad-scores',
      `What'sUp QA item ${item.id}: expected 1 image row of 2 caption scores, got ${m.length} row(s) of ${row?.length ?? 0}`,
    );
  }
  return row;
}

export interface QaCount {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface WhatsUpQaMetrics {
  n: number;
  nMissing: number;
  accuracy: QaCount;
  perPreposition: Array<{ preposition: string; accuracy: number | null; count: number; correct: number; missing: number }>;
}

export function whatsupQaMetrics(items: Item[], scores: Map<string, ScoreMatrix>): WhatsUpQaMetrics {
  const correctById = new Map<string, boolean>();
  for (const item of items) {
    const m = scores.get(item.id);
    if (m !== undefined) correctById.set(item.id, argmaxFirst(rowOf(item, m)) === 0);
  }
  const n = correctById.size;
  const correct = [...correctById.values()].filter(Boolean).length;
  const labels = [...new Set(items.map((i) => i.groups.preposition ?? ''))].sort();
  return {
    n,
    nMissing: items.length - n,
    accuracy: { correct, total: n, accuracy: ratio(correct, n) },
    perPreposition: labels.map((label) => {
      const withLabel = items.filter((i) => (i.groups.preposition ?? '') === label);
      const here = withLabel.filter((i) => correctById.has(i.id));
      const c = here.filter((i) => correctById.get(i.id) === true).length;
      return { preposition: label, accuracy: ratio(c, here.length), count: here.length, correct: c, missing: withLabel.length - here.length };
    }),
  };
}

const QA_TYPES = [
  { key: 'left_right', label: 'Left Right', words: ['left', 'right'], always: true },
  { key: 'top_bottom', label: 'Top Bottom', words: ['top', 'bottom'], always: false },
  { key: 'above_below', label: 'Above Below', words: ['above', 'below'], always: false },
  { key: 'front_behind', label: 'Front Behind', words: ['front', 'behind'], always: false },
] as const;

export interface ClipEmbedsQaMetrics {
  n: number;
  nMissing: number;
  individual: QaCount;
  /** The per-type lines eval_COCO_VG prints (Top Bottom etc. only when they have rows). */
  perType: Array<{ type: string; label: string } & QaCount>;
  /** eval_dict / total_dict per gold word. */
  perGold: Record<string, { correct: number; total: number }>;
}

export function clipEmbedsQaMetrics(items: Item[], scores: Map<string, ScoreMatrix>): ClipEmbedsQaMetrics {
  const perGold: Record<string, { correct: number; total: number }> = {};
  for (const w of ['left', 'right', 'top', 'bottom', 'below', 'above', 'front', 'behind']) perGold[w] = { correct: 0, total: 0 };
  let n = 0;
  for (const item of items) {
    const m = scores.get(item.id);
    if (m === undefined) continue;
    const gold = item.groups.gold;
    if (gold === undefined || perGold[gold] === undefined) {
      throw new PerceiveError('whatsup-bad-item', `What'sUp QA item ${item.id} has no gold preposition (load it in the clip_embeds convention)`);
    }
    const row = rowOf(item, m);
    n += 1;
    const g = perGold[gold];
    g.total += 1;
    if ((row[0] as number) > (row[1] as number)) g.correct += 1;
  }
  const sum = (ws: readonly string[], k: 'correct' | 'total'): number => ws.reduce((a, w) => a + (perGold[w]?.[k] ?? 0), 0);
  const correct = Object.values(perGold).reduce((a, g) => a + g.correct, 0);
  return {
    n,
    nMissing: items.length - n,
    individual: { correct, total: n, accuracy: ratio(correct, n) },
    perType: QA_TYPES.filter((t) => t.always || sum(t.words, 'total') > 0).map((t) => ({
      type: t.key,
      label: t.label,
      correct: sum(t.words, 'correct'),
      total: sum(t.words, 'total'),
      accuracy: ratio(sum(t.words, 'correct'), sum(t.words, 'total')),
    })),
    perGold,
  };
}
