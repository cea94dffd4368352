/**
 * MMVP metrics: per-question and pair accuracy, as the MMVP authors and lmms-eval compute them.
 *
 * Ported (not copied) from:
 * - `tsb0601/MMVP@763500597e65c3446f09047837ceda76f4e264bf:scripts/gpt_grader.py` (module-level loop): the
 *   answer lines are read in file order two by two; a pair counts when both are graded right;
 *   accuracy = correct pairs / pairs. A trailing odd line is never counted. The authors print no
 *   per-question figure.
 * - `EvolvingLMMs-Lab/lmms-eval@75571cfe0fa36ca5ec2e6aa2bb268f9d38295af3:lmms_eval/tasks/mmvp/utils.py`:
 *   `mmvp_aggregate_results` (per-question accuracy = correct / all results) and
 *   `mmvp_aggregate_pair_results` (group by `pair_index = (Index - 1) // 2`; only groups with exactly two
 *   results count; accuracy = correct pairs / complete pairs).
 *
 * Items are answered by option scores, not by generated text: the prediction is the first maximum of
 * `scores[0]` (np.argmax's rule; it matches greedy decoding of the option letter, where a tie goes to
 * the earlier token), and an item is right when the prediction equals the label. So a tie picks (a).
 *
 * Every figure is computed twice: with the errata table's labels (`corrected`, the default headline)
 * and with the labels of the original MMVP Questions.csv (`uncorrected`).
 *
 * Missing scores (our rule, as for What'sUp): a question without scores (or a row that failed to load,
 * which comes back without groups) is left out of the question figures, and a pair with a missing
 * member is left out of the pair figures. Everything read here is in `item.groups` (labels, Index),
 * which survives samples.jsonl.
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import { argmaxFirst } from '../whatsup/metrics.js';

export interface MmvpCount {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface MmvpFigures {
  /** lmms-eval `mmvp_accuracy`. */
  questions: MmvpCount;
  /** gpt_grader.py's pair accuracy (consecutive rows), the figure the MMVP paper reports. */
  pairs: MmvpCount;
  /** lmms-eval `mmvp_pair_accuracy` (pairs by Index column). */
  indexPairs: MmvpCount;
}

export interface MmvpMetrics {
  n: number;
  nMissing: number;
  missingIds: string[];
  corrected: MmvpFigures;
  uncorrected: MmvpFigures;
  /** Items whose label the errata table changed (id, Index, original and corrected option). */
  corrections: Array<{ id: string; index: number; original: number; corrected: number }>;
  predictionById: Record<string, number>;
}

const ratio = (c: number, t: number): number | null => (t === 0 ? null : c / t);

/** The option an arm picked: np.argmax over `scores[0]` (first maximum). */
export function mmvpPrediction(scores: ScoreMatrix): number {
  const row = scores[0];
  if (row === undefined || row.length === 0) throw new PerceiveError('mmvp-bad-scores', 'MMVP scores need one row of option scores');
  return argmaxFirst(row);
}

function originalLabel(item: Item): number {
  const g = item.groups.original_correct;
  if (g === '0' || g === '1') return Number(g);
  const v = item.meta.original_correct;
  return typeof v === 'number' ? v : item.correct;
}

/** An item the loader made (a row that failed to load comes back from the store with no groups). */
const loaded = (item: Item): boolean => item.groups.pair !== undefined;

function pairFigures(items: Item[], key: 'pair' | 'index_pair', right: (item: Item) => boolean | undefined): MmvpCount {
  const groups = new Map<string, Item[]>();
  for (const item of items) {
    const k = item.groups[key];
    if (k === undefined) throw new PerceiveError('mmvp-bad-item', `MMVP item ${item.id} has no groups.${key}`);
    const g = groups.get(k) ?? [];
    g.push(item);
    groups.set(k, g);
  }
  let correct = 0;
  let total = 0;
  for (const members of groups.values()) {
    if (members.length !== 2) continue; // an incomplete pair is never counted (both codes)
    const a = right(members[0] as Item);
    const b = right(members[1] as Item);
    if (a === undefined || b === undefined) continue; // a missing member: the pair is left out
    total += 1;
    if (a && b) correct += 1;
  }
  return { correct, total, accuracy: ratio(correct, total) };
}

function figures(items: Item[], prediction: Record<string, number>, label: (item: Item) => number): MmvpFigures {
  const right = (item: Item): boolean | undefined => {
    const p = prediction[item.id];
    return p === undefined ? undefined : p === label(item);
  };
  let correct = 0;
  let total = 0;
  for (const item of items) {
    const r = right(item);
    if (r === undefined) continue;
    total += 1;
    if (r) correct += 1;
  }
  return {
    questions: { correct, total, accuracy: ratio(correct, total) },
    pairs: pairFigures(items, 'pair', right),
    indexPairs: pairFigures(items, 'index_pair', right),
  };
}

export function mmvpMetrics(all: Item[], scores: Map<string, ScoreMatrix>): MmvpMetrics {
  const predictionById: Record<string, number> = {};
  const missingIds: string[] = [];
  for (const item of all) {
    const m = loaded(item) ? scores.get(item.id) : undefined;
    if (m === undefined) {
      missingIds.push(item.id);
      continue;
    }
    predictionById[item.id] = mmvpPrediction(m);
  }
  const items = all.filter(loaded);
  const corrections = items
    .filter((i) => originalLabel(i) !== i.correct)
    .map((i) => ({ id: i.id, index: Number(i.groups.index ?? i.meta.index), original: originalLabel(i), corrected: i.correct }));
  return {
    n: all.length - missingIds.length,
    nMissing: missingIds.length,
    missingIds,
    corrected: figures(items, predictionById, (i) => i.correct),
    uncorrected: figures(items, predictionById, originalLabel),
    corrections,
    predictionById,
  };
}
