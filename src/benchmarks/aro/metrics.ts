/**
 * ARO metrics, ported (not copied) from `mertyg/vision-language-models-are-bows@81fdd20dc5b6f434aa5a4a971717bc80d1cedb0d`:
 *
 * - `dataset_zoo/aro_datasets.py` `VG_Relation.evaluate_scores`: `preds = np.argmax(scores)`, right iff
 *   `preds == 1` (the true caption is second, so a TIE counts as WRONG: argmax returns the first index);
 *   one record per relation in `np.unique` (sorted) order with its accuracy and count. The class keeps
 *   every relation (its `relation_mask.sum() == 0` test never fires); it drops nothing.
 * - `notebooks/Replicate ARO! VG-Relation, VG-Attribution.ipynb`: the NOTEBOOK drops the relations of
 *   its `symmetric` list (`df[~df.Relation.isin(symmetric)]`) and prints the mean of the remaining
 *   per-relation accuracies: "VG-Relation Macro Accuracy". No sample-count filter is applied to VG-R.
 * - `VG_Attribution.evaluate_scores`: same rule (`preds == 1`); the DATASET CLASS drops every attribute
 *   pair (`f"{attributes[0]}_{attributes[1]}"`) with fewer than 25 samples (`attr_mask.sum() < 25`);
 *   the notebook prints the mean of the kept per-pair accuracies: "VG-Attribution Macro Accuracy".
 * - `COCO_Order.evaluate_scores` / `Flickr30k_Order.evaluate_scores`: `preds = np.argmax(scores)`,
 *   right iff `preds == 0` (the original caption is first, so a tie with it counts as RIGHT);
 *   `Precision@1 = mean(correct)`.
 *
 * Missing scores (our rule): an item without scores is left out of every figure. A class's size for
 * the `< 25` filter is its count in the loaded file (as the authors count the dataset); a class with no
 * scored item has no accuracy and is left out of the macro mean (pandas' `mean` skips NaN likewise).
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import { argmaxFirst } from '../whatsup/metrics.js';

/** The notebook's `symmetric` list, verbatim, in its order (157 relations; `notebooks/Replicate ARO!…ipynb`). */
export const ARO_SYMMETRIC_RELATIONS: readonly string[] = [
  'adjusting',
  'attached to',
  'between',
  'bigger than',
  'biting',
  'boarding',
  'brushing',
  'chewing',
  'cleaning',
  'climbing',
  'close to',
  'coming from',
  'coming out of',
  'contain',
  'crossing',
  'dragging',
  'draped over',
  'drinking',
  'drinking from',
  'driving',
  'driving down',
  'driving on',
  'eating from',
  'eating in',
  'enclosing',
  'exiting',
  'facing',
  'filled with',
  'floating in',
  'floating on',
  'flying',
  'flying above',
  'flying in',
  'flying over',
  'flying through',
  'full of',
  'going down',
  'going into',
  'going through',
  'grazing in',
  'growing in',
  'growing on',
  'guiding',
  'hanging from',
  'hanging in',
  'hanging off',
  'hanging over',
  'higher than',
  'holding onto',
  'hugging',
  'in between',
  'jumping off',
  'jumping on',
  'jumping over',
  'kept in',
  'larger than',
  'leading',
  'leaning over',
  'leaving',
  'licking',
  'longer than',
  'looking in',
  'looking into',
  'looking out',
  'looking over',
  'looking through',
  'lying next to',
  'lying on top of',
  'making',
  'mixed with',
  'mounted on',
  'moving',
  'on the back of',
  'on the edge of',
  'on the front of',
  'on the other side of',
  'opening',
  'painted on',
  'parked at',
  'parked beside',
  'parked by',
  'parked in',
  'parked in front of',
  'parked near',
  'parked next to',
  'perched on',
  'petting',
  'piled on',
  'playing',
  'playing in',
  'playing on',
  'playing with',
  'pouring',
  'reaching for',
  'reading',
  'reflected on',
  'riding on',
  'running in',
  'running on',
  'running through',
  'seen through',
  'sitting behind',
  'sitting beside',
  'sitting by',
  'sitting in front of',
  'sitting near',
  'sitting next to',
  'sitting under',
  'skiing down',
  'skiing on',
  'sleeping in',
  'sleeping on',
  'smiling at',
  'sniffing',
  'splashing',
  'sprinkled on',
  'stacked on',
  'standing against',
  'standing around',
  'standing behind',
  'standing beside',
  'standing in front of',
  'standing near',
  'standing next to',
  'staring at',
  'stuck in',
  'surrounding',
  'swimming in',
  'swinging',
  'talking to',
  'topped with',
  'touching',
  'traveling down',
  'traveling on',
  'tying',
  'typing on',
  'underneath',
  'wading in',
  'waiting for',
  'walking across',
  'walking by',
  'walking down',
  'walking next to',
  'walking through',
  'working in',
  'working on',
  'worn on',
  'wrapped around',
  'wrapped in',
  'by',
  'of',
  'near',
  'next to',
  'with',
  'beside',
  'on the side of',
  'around',
];

/** VG_Attribution.evaluate_scores: attribute pairs with fewer samples are dropped. */
export const ARO_MIN_ATTRIBUTE_COUNT = 25;

export interface AroClassRecord {
  /** The relation (VG-R) or `attr1_attr2` (VG-A). */
  name: string;
  /** Items of this class in the loaded file (the authors' `Count`). */
  count: number;
  scored: number;
  correct: number;
  accuracy: number | null;
  /** Why it is left out of the macro mean, if it is. */
  dropped: 'symmetric' | 'fewer_than_25' | null;
}

export interface AroVgMetrics {
  kind: 'relation' | 'attribution';
  n: number;
  nMissing: number;
  missingIds: string[];
  /** The paper's figure: mean accuracy over the kept classes. */
  macro: { value: number | null; classes: number };
  /** Mean over every class, nothing dropped (what the dataset class's records average to for VG-R). */
  macroAllClasses: { value: number | null; classes: number };
  /** `np.mean(correct_mask)` over all scored items (VG_Relation computes it as "Accuracy" and discards it). */
  micro: { correct: number; total: number; accuracy: number | null };
  records: AroClassRecord[];
}

const ratio = (c: number, t: number): number | null => (t === 0 ? null : c / t);
const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** VG-R / VG-A item rule: np.argmax over [false, true] must be 1 (a tie picks 0: wrong). */
export function vgItemCorrect(scores: ScoreMatrix): boolean {
  const row = scores[0];
  if (row === undefined || row.length !== 2) throw new PerceiveError('aro-bad-scores', 'VG-Relation/Attribution scores must be 1 image × 2 captions');
  return argmaxFirst(row) === 1;
}

/** Order item rule: np.argmax over the 5 captions must be 0 (a tie with the original counts right). */
export function orderItemCorrect(scores: ScoreMatrix): boolean {
  const row = scores[0];
  if (row === undefined || row.length === 0) throw new PerceiveError('aro-bad-scores', 'Order scores must be 1 image × N captions');
  return argmaxFirst(row) === 0;
}

/** np.unique order: sorted by code point. */
function codePointSort(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface AroClassCounts {
  count: number;
  scored: number;
  correct: number;
}

const SYMMETRIC = new Set(ARO_SYMMETRIC_RELATIONS);

/** The per-class records in np.unique (code point) order, with the class's reason to be dropped. */
export function aroClassRecords(kind: 'relation' | 'attribution', classes: Map<string, AroClassCounts>): AroClassRecord[] {
  return [...classes.entries()]
    .sort(([a], [b]) => codePointSort(a, b))
    .map(([name, c]) => ({
      name,
      count: c.count,
      scored: c.scored,
      correct: c.correct,
      accuracy: ratio(c.correct, c.scored),
      dropped: kind === 'relation' ? (SYMMETRIC.has(name) ? 'symmetric' : null) : c.count < ARO_MIN_ATTRIBUTE_COUNT ? 'fewer_than_25' : null,
    }));
}

/** The paper's figure: the mean accuracy over the kept classes (in record order). */
export function aroMacro(records: AroClassRecord[]): { value: number | null; classes: number } {
  const kept = records.filter((r) => r.dropped === null && r.accuracy !== null).map((r) => r.accuracy as number);
  return { value: mean(kept), classes: kept.length };
}

export function aroVgMetrics(kind: 'relation' | 'attribution', items: Item[], scores: Map<string, ScoreMatrix>): AroVgMetrics {
  const key = kind === 'relation' ? 'relation' : 'attributes';
  const classes = new Map<string, { count: number; scored: number; correct: number }>();
  const missingIds: string[] = [];
  let correct = 0;
  let total = 0;
  for (const item of items) {
    const name = item.groups[key];
    if (name === undefined) {
      // A row that failed to load comes back from the store without groups: missing, in no class.
      missingIds.push(item.id);
      continue;
    }
    const c = classes.get(name) ?? { count: 0, scored: 0, correct: 0 };
    classes.set(name, c);
    c.count += 1;
    const m = scores.get(item.id);
    if (m === undefined) {
      missingIds.push(item.id);
      continue;
    }
    const right = vgItemCorrect(m);
    c.scored += 1;
    total += 1;
    if (right) {
      c.correct += 1;
      correct += 1;
    }
  }
  const records = aroClassRecords(kind, classes);
  const all = records.filter((r) => r.accuracy !== null).map((r) => r.accuracy as number);
  return {
    kind,
    n: total,
    nMissing: missingIds.length,
    missingIds,
    macro: aroMacro(records),
    macroAllClasses: { value: mean(all), classes: all.length },
    micro: { correct, total, accuracy: ratio(correct, total) },
    records,
  };
}

export interface AroOrderMetrics {
  n: number;
  nMissing: number;
  missingIds: string[];
  precisionAt1: { correct: number; total: number; accuracy: number | null };
}

export function aroOrderMetrics(items: Item[], scores: Map<string, ScoreMatrix>): AroOrderMetrics {
  const missingIds: string[] = [];
  let correct = 0;
  let total = 0;
  for (const item of items) {
    const m = scores.get(item.id);
    if (m === undefined) {
      missingIds.push(item.id);
      continue;
    }
    total += 1;
    if (orderItemCorrect(m)) correct += 1;
  }
  return { n: total, nMissing: missingIds.length, missingIds, precisionAt1: { correct, total, accuracy: ratio(correct, total) } };
}
