/**
 * What'sUp Controlled_Images A/B metrics, ported (not copied) from
 * `amitakamath/whatsup_vlms@7c1f2550eace32e7b8c77de5a792347c402960d1:dataset_zoo/aro_datasets.py`,
 * `Controlled_Images.evaluate_scores` (scores N x 1 x 4 from `main_aro.py` →
 * `model.get_retrieval_scores_batched`):
 *
 * - `preds = np.argmax(np.squeeze(scores, axis=1), axis=-1)`; an item is correct iff `preds == 0`.
 *   `np.argmax` returns the FIRST maximal index, so a tie between option 0 and any other option counts
 *   as correct. It also treats NaN as the maximum (first NaN wins), so a NaN at option 0 is "correct"
 *   and a NaN elsewhere is wrong; `whatsupItemCorrect` reproduces both.
 * - Individual accuracy = mean(correct) over the N rows.
 * - `eval_dict[(obj1, obj2)][slot] = correct` (slot = `name.split('_')[1]`; a later row with the same
 *   key overwrites an earlier one). For each key: `left` and `right` both correct → one pair; A: `on`
 *   and `under`, B: `in-front` and `behind` both correct → one pair; `sum(values) == 4` → one set.
 * - Pair accuracy = pair_correct / (N / 2); set accuracy = set_correct / (N / 4), with N the number of
 *   rows (not the number of pairs/sets; the division is float, so N/2 and N/4 may be fractional).
 *   The authors print these ×100 (percent) and individual accuracy as a fraction ×100; here all three
 *   are fractions in [0, 1].
 * - Per-preposition records: for each label of `all_prepositions` in `np.unique` (sorted) order,
 *   `Accuracy` = mean(correct) over rows with that label, `Count` = their number.
 * - (`prep_counts` / `pred_dict`, a confusion of predicted prepositions, is computed but neither
 *   printed nor returned by the authors; it is not reproduced here.)
 *
 * Missing items (in `items` but not in `scores`, e.g. a failed model call) — our choice, since the
 * authors assume every row is scored:
 * - Individual and per-preposition accuracy are computed over the items present; `nMissing` and
 *   per-preposition `missing` report the rest.
 * - A pair (or set) with a missing member is EXCLUDED: it adds nothing to the numerator, and its present
 *   members are taken out of N before N/2 (or N/4). With nothing missing this is exactly the authors'
 *   formula; with something missing it is the authors' formula on the complete pairs/sets only, so a
 *   failure neither counts as wrong nor inflates the denominator. `pair.excludedPairs` /
 *   `set.excludedSets` count what was left out.
 * Items given to this function but absent from the annotation (e.g. a `limit`) are simply not part of
 * N, as in the authors' code on a shortened file.
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import { WHATSUP_PAIRS, WHATSUP_SLOTS, type WhatsUpVariant } from './loader.js';

/** Index of the first maximum, with numpy's `argmax` semantics (the first NaN wins). */
export function argmaxFirst(row: readonly number[]): number {
  if (row.length === 0) throw new PerceiveError('whatsup-bad-scores', 'argmax of an empty score row');
  let best = 0;
  let bestValue = row[0] as number;
  if (Number.isNaN(bestValue)) return 0;
  for (let i = 1; i < row.length; i++) {
    const v = row[i] as number;
    if (Number.isNaN(v)) return i;
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

/**
 * The authors' per-item rule: correct iff `np.argmax(scores) == 0` (the first caption is the correct
 * one). A tie between option 0 and another option counts as correct.
 */
export function whatsupItemCorrect(scoreRow: number[]): boolean {
  return argmaxFirst(scoreRow) === 0;
}

export interface WhatsUpCount {
  correct: number;
  /** The authors' denominator (N, N/2 or N/4 over the included items); may be fractional. */
  total: number;
  /** correct / total, or null when total is 0. */
  accuracy: number | null;
}

export interface WhatsUpPrepositionRecord {
  /** The authors' label: left_of, right_of, on, under (A) / left_of, right_of, in-front_of, behind (B). */
  preposition: string;
  /** Fraction correct over the present items with this label; null when none is present. */
  accuracy: number | null;
  /** Present items with this label (the authors' `Count`). */
  count: number;
  correct: number;
  /** Items with this label missing from `scores`. */
  missing: number;
}

export interface WhatsUpControlledMetrics {
  subset: string;
  variant: WhatsUpVariant;
  /** Items scored (present in `scores`). */
  n: number;
  /** Items missing from `scores`, excluded from every number below. */
  nMissing: number;
  missingIds: string[];
  /** The authors' `Accuracy`: correct / n. */
  individual: WhatsUpCount;
  /** The authors' pair accuracy: pairs with both members correct / (n_pairable / 2). */
  pair: WhatsUpCount & { excludedPairs: number };
  /** The authors' set accuracy: sets with all 4 correct / (n_settable / 4). */
  set: WhatsUpCount & { excludedSets: number };
  /** The authors' result_records, in np.unique (sorted) order. */
  perPreposition: WhatsUpPrepositionRecord[];
  /** Per-item correctness (argmax == 0) of the present items. */
  correctById: Record<string, boolean>;
}

function ratio(correct: number, total: number): number | null {
  return total > 0 ? correct / total : null;
}

function requireGroup(item: Item, key: string): string {
  const v = item.groups[key];
  if (v === undefined || v === '') {
    throw new PerceiveError('whatsup-bad-item', `What'sUp item ${item.id} has no groups.${key}; load it with loadWhatsUpControlled`);
  }
  return v;
}

function scoreRowFor(item: Item, matrix: ScoreMatrix): number[] {
  // np.squeeze(scores, axis=1) requires exactly one image per row.
  if (matrix.length !== 1 || matrix[0] === undefined) {
    throw new PerceiveError('whatsup-bad-scores', `What'sUp item ${item.id}: expected a score matrix with 1 image row, got ${matrix.length}`);
  }
  const row = matrix[0];
  if (row.length !== item.options.length) {
    throw new PerceiveError('whatsup-bad-scores', `What'sUp item ${item.id}: expected ${item.options.length} option scores, got ${row.length}`);
  }
  return row;
}

/** Reproduces `Controlled_Images.evaluate_scores` for one Controlled subset (see the file comment). */
export function whatsupControlledMetrics(items: Item[], scores: Map<string, ScoreMatrix>): WhatsUpControlledMetrics {
  if (items.length === 0) {
    throw new PerceiveError('whatsup-no-items', "What'sUp metrics need at least one item");
  }
  const first = items[0] as Item;
  const subset = first.subset;
  const variant = requireGroup(first, 'variant');
  if (variant !== 'A' && variant !== 'B') {
    throw new PerceiveError('whatsup-bad-item', `What'sUp item ${first.id}: groups.variant must be A or B, got ${variant}`);
  }
  for (const item of items) {
    if (item.benchmark !== first.benchmark || item.subset !== subset || item.groups.variant !== variant) {
      throw new PerceiveError(
        'whatsup-mixed-items',
        `What'sUp metrics are computed per subset: item ${item.id} (${item.benchmark}/${item.subset}) does not belong to ${first.benchmark}/${subset}`,
        { hint: 'Call whatsupControlledMetrics once per subset.' },
      );
    }
    if (item.correct !== 0) {
      throw new PerceiveError('whatsup-bad-item', `What'sUp item ${item.id}: the correct caption must be option 0`);
    }
  }

  const slotsOf = WHATSUP_SLOTS[variant];
  const pairsOf = WHATSUP_PAIRS[variant];
  const pairTypeOf = (slot: string): string | undefined => {
    const p = pairsOf.find(([a, b]) => a === slot || b === slot);
    return p === undefined ? undefined : `${p[0]}-${p[1]}`;
  };

  // Which sets / pairs have a member missing from `scores`.
  const incompleteSets = new Set<string>();
  const incompletePairs = new Set<string>();
  const missingIds: string[] = [];
  for (const item of items) {
    if (scores.has(item.id)) continue;
    missingIds.push(item.id);
    const setKey = requireGroup(item, 'set');
    incompleteSets.add(setKey);
    const pt = pairTypeOf(requireGroup(item, 'slot'));
    if (pt !== undefined) incompletePairs.add(`${setKey}|${pt}`);
  }

  // preds == 0 per present item, in file order; eval_dict over the present items.
  const correctById: Record<string, boolean> = {};
  const evalDict = new Map<string, Map<string, boolean>>();
  const present: Item[] = [];
  for (const item of items) {
    const matrix = scores.get(item.id);
    if (matrix === undefined) continue;
    present.push(item);
    const correct = whatsupItemCorrect(scoreRowFor(item, matrix));
    correctById[item.id] = correct;
    const setKey = requireGroup(item, 'set');
    let slots = evalDict.get(setKey);
    if (slots === undefined) {
      slots = new Map(slotsOf.map((s) => [s, false] as const));
      evalDict.set(setKey, slots);
    }
    slots.set(requireGroup(item, 'slot'), correct); // later rows overwrite, as in the authors' dict
  }

  const n = present.length;
  const nCorrect = present.filter((it) => correctById[it.id] === true).length;

  let pairCorrect = 0;
  let setCorrect = 0;
  for (const [setKey, slots] of evalDict) {
    for (const [a, b] of pairsOf) {
      if (incompletePairs.has(`${setKey}|${a}-${b}`)) continue;
      if (slots.get(a) === true && slots.get(b) === true) pairCorrect += 1;
    }
    if (incompleteSets.has(setKey)) continue;
    let sum = 0;
    for (const v of slots.values()) if (v) sum += 1;
    if (sum === 4) setCorrect += 1;
  }
  let nPairable = 0;
  let nSettable = 0;
  for (const item of present) {
    const setKey = requireGroup(item, 'set');
    const pt = pairTypeOf(requireGroup(item, 'slot'));
    if (pt === undefined || !incompletePairs.has(`${setKey}|${pt}`)) nPairable += 1;
    if (!incompleteSets.has(setKey)) nSettable += 1;
  }
  const pairTotal = nPairable / 2;
  const setTotal = nSettable / 4;

  // Per-preposition accuracy, labels in np.unique (sorted) order.
  const labels = [...new Set(items.map((it) => requireGroup(it, 'preposition')))].sort();
  const perPreposition: WhatsUpPrepositionRecord[] = labels.map((label) => {
    const withLabel = items.filter((it) => it.groups.preposition === label);
    const here = withLabel.filter((it) => correctById[it.id] !== undefined);
    const correct = here.filter((it) => correctById[it.id] === true).length;
    return {
      preposition: label,
      accuracy: ratio(correct, here.length),
      count: here.length,
      correct,
      missing: withLabel.length - here.length,
    };
  });

  return {
    subset,
    variant,
    n,
    nMissing: missingIds.length,
    missingIds,
    individual: { correct: nCorrect, total: n, accuracy: ratio(nCorrect, n) },
    pair: { correct: pairCorrect, total: pairTotal, accuracy: ratio(pairCorrect, pairTotal), excludedPairs: incompletePairs.size },
    set: { correct: setCorrect, total: setTotal, accuracy: ratio(setCorrect, setTotal), excludedSets: incompleteSets.size },
    perPreposition,
    correctById,
  };
}
