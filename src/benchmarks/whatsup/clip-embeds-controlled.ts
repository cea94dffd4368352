/**
 * What'sUp Controlled A/B in Li, Koh & Du's `clip_embeds` convention, ported (not copied) from
 * `lst627/CLIP-Embeds@1c73a50a153ccc9d89e2eddabb69f8cc05f1a0be:Patch-Aligned-Contrastive-Learning/eval_clip.py`,
 * functions `eval` (dataset `a`/`b`, the 2-way setting) and `eval_4` (`a4`/`b4`, the 4-way setting);
 * `eval_vqa_score.py` and `VLM2Vec/eval_llava15.py` aggregate the same way.
 *
 * Per item:
 * - `gold_prep` = the words of `caption_options[0]` (split on whitespace) that are in
 *   {on, under, front, behind, left, right}; the code takes `gold_prep[0]` of a Python set, so a
 *   caption with two such words would be picked arbitrarily and one with none crashes: both fail
 *   their row here, with the reason.
 * - 2-way: options = the captions (in file order) that contain the gold word or its opposite
 *   (on↔under, front↔behind, left↔right) as a word; correct iff `p[0] > p[1]` (strict: a tie is
 *   WRONG). Fewer than 2 such captions crashes their code: the row fails here.
 * - 4-way: all 4 captions; correct iff option 0 is strictly above each of options 1, 2, 3.
 * - (The code compares softmax(100·cos) probabilities; softmax is strictly increasing, so comparing
 *   the raw scores is the same comparison.)
 *
 * Aggregation (`eval_dict` keyed by (name.split('_')[0], name.split('_')[-1][:-5]) with all six
 * slots left/right/on/under/in-front/behind at 0, slot = name.split('_')[1], later rows overwrite):
 * - Individual = Σ all slot values / N; "Left Right", "On Under", "Front Back" individual =
 *   Σ of that type's two slots / (N/2) (for A the Front Back figure is 0, for B On Under is 0, as
 *   their code prints them).
 * - Pair (per type) = both slots correct; per-type pair accuracy = count / (N/4); overall pair =
 *   Σ types / (N/2); set = sets whose six values sum to 4, / (N/4).
 * N = number of rows. Missing items (no scores): same policy as `metrics.ts` — N counts the present
 * items for individual figures, a pair (set) with a missing member is left out of numerator and
 * denominator. With nothing missing the numbers are exactly the authors'.
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';

export const CLIP_EMBEDS_COMMIT = '1c73a50a153ccc9d89e2eddabb69f8cc05f1a0be';
export const CLIP_EMBEDS_2WAY_SOURCE = `lst627/CLIP-Embeds@${CLIP_EMBEDS_COMMIT}:Patch-Aligned-Contrastive-Learning/eval_clip.py eval`;
export const CLIP_EMBEDS_4WAY_SOURCE = `lst627/CLIP-Embeds@${CLIP_EMBEDS_COMMIT}:Patch-Aligned-Contrastive-Learning/eval_clip.py eval_4`;

const CONTROLLED_PREPOSITIONS = ['on', 'under', 'front', 'behind', 'left', 'right'] as const;
const CONTROLLED_OPPOSITE: Record<string, string> = {
  on: 'under',
  under: 'on',
  front: 'behind',
  behind: 'front',
  left: 'right',
  right: 'left',
};

/** The gold preposition word of a Controlled caption, or a reason. */
export function controlledGoldPreposition(caption: string): string | { reason: string } {
  const words = new Set(caption.split(/\s+/).filter((w) => w !== ''));
  const found = CONTROLLED_PREPOSITIONS.filter((p) => words.has(p));
  if (found.length !== 1) {
    return {
      reason:
        found.length === 0
          ? `caption_options[0] ${JSON.stringify(caption)} has none of ${CONTROLLED_PREPOSITIONS.join(', ')} (eval_clip.py would crash on gold_prep[0])`
          : `caption_options[0] ${JSON.stringify(caption)} has ${found.length} of the preposition words (${found.join(', ')}); eval_clip.py would pick one arbitrarily`,
    };
  }
  return found[0] as string;
}

/** The indices of `captions` kept by the 2-way setting (gold word or its opposite), or a reason. */
export function twoWayOptionIndices(captions: readonly string[]): number[] | { reason: string } {
  const gold = controlledGoldPreposition(captions[0] ?? '');
  if (typeof gold !== 'string') return gold;
  const oppo = CONTROLLED_OPPOSITE[gold] as string;
  const kept: number[] = [];
  captions.forEach((c, i) => {
    const words = c.split(/\s+/);
    if (words.includes(gold) || words.includes(oppo)) kept.push(i);
  });
  if (kept.length < 2 || kept[0] !== 0) {
    return { reason: `only ${kept.length} caption(s) contain "${gold}" or "${oppo}"; the 2-way setting needs the gold caption and its opposite` };
  }
  return kept;
}

/** eval: correct iff p[0] > p[1] (strict). */
export function clipEmbeds2WayCorrect(row: readonly number[]): boolean {
  return (row[0] as number) > (row[1] as number);
}

/** eval_4: correct iff p[0] > p[1] and p[0] > p[2] and p[0] > p[3] (strict). */
export function clipEmbeds4WayCorrect(row: readonly number[]): boolean {
  const s0 = row[0] as number;
  for (let i = 1; i < row.length; i++) if (!(s0 > (row[i] as number))) return false;
  return true;
}

const TYPES = [
  { key: 'left_right', label: 'Left Right', slots: ['left', 'right'] },
  { key: 'on_under', label: 'On Under', slots: ['on', 'under'] },
  { key: 'front_back', label: 'Front Back', slots: ['in-front', 'behind'] },
] as const;
const ALL_SLOTS = ['left', 'right', 'on', 'under', 'in-front', 'behind'];

export interface ClipEmbedsCount {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface ClipEmbedsControlledMetrics {
  convention: 'clip_embeds_2way' | 'clip_embeds_4way';
  n: number;
  nMissing: number;
  individual: ClipEmbedsCount;
  pair: ClipEmbedsCount & { excludedPairs: number };
  set: ClipEmbedsCount & { excludedSets: number };
  /** "Left Right", "On Under", "Front Back": individual (/(N/2)) and pair (/(N/4)) accuracy. */
  perType: Array<{ type: string; label: string; individual: ClipEmbedsCount; pair: ClipEmbedsCount }>;
  correctById: Record<string, boolean>;
}

const ratio = (c: number, t: number): number | null => (t > 0 ? c / t : null);

function group(item: Item, key: string): string {
  const v = item.groups[key];
  if (v === undefined || v === '') throw new PerceiveError('whatsup-bad-item', `What'sUp item ${item.id} has no groups.${key}`);
  return v;
}

function pairTypeOf(slot: string): string | undefined {
  return TYPES.find((t) => (t.slots as readonly string[]).includes(slot))?.key;
}

/** The authors' per-item rule for a convention, on the item's own score row. */
export function clipEmbedsControlledCorrect(convention: string, item: Item, matrix: ScoreMatrix): boolean {
  const row = matrix[0];
  if (matrix.length !== 1 || row === undefined || row.length !== item.options.length) {
    throw new PerceiveError(
      'whatsup-bad-scores',
      `What'sUp item ${item.id}: expected 1 image row of ${item.options.length} option scores, got ${matrix.length} row(s) of ${row?.length ?? 0}`,
    );
  }
  return convention === 'clip_embeds_4way' ? clipEmbeds4WayCorrect(row) : clipEmbeds2WayCorrect(row);
}

export function clipEmbedsControlledMetrics(
  convention: 'clip_embeds_2way' | 'clip_embeds_4way',
  items: Item[],
  scores: Map<string, ScoreMatrix>,
): ClipEmbedsControlledMetrics {
  const incompleteSets = new Set<string>();
  const incompletePairs = new Set<string>();
  let nMissing = 0;
  for (const item of items) {
    if (scores.has(item.id)) continue;
    nMissing += 1;
    const set = group(item, 'set');
    incompleteSets.add(set);
    const t = pairTypeOf(group(item, 'slot'));
    if (t !== undefined) incompletePairs.add(`${set}|${t}`);
  }
  const correctById: Record<string, boolean> = {};
  const evalDict = new Map<string, Map<string, number>>();
  const present: Item[] = [];
  for (const item of items) {
    const m = scores.get(item.id);
    if (m === undefined) continue;
    present.push(item);
    const correct = clipEmbedsControlledCorrect(convention, item, m);
    correctById[item.id] = correct;
    const set = group(item, 'set');
    let slots = evalDict.get(set);
    if (slots === undefined) {
      slots = new Map(ALL_SLOTS.map((s) => [s, 0] as const));
      evalDict.set(set, slots);
    }
    slots.set(group(item, 'slot'), correct ? 1 : 0);
  }
  const n = present.length;
  let nPairable = 0;
  let nSettable = 0;
  for (const item of present) {
    const set = group(item, 'set');
    const t = pairTypeOf(group(item, 'slot'));
    if (t === undefined || !incompletePairs.has(`${set}|${t}`)) nPairable += 1;
    if (!incompleteSets.has(set)) nSettable += 1;
  }
  let indiv = 0;
  let setCorrect = 0;
  const typeIndiv = new Map<string, number>(TYPES.map((t) => [t.key, 0]));
  const typePair = new Map<string, number>(TYPES.map((t) => [t.key, 0]));
  for (const [set, slots] of evalDict) {
    for (const t of TYPES) {
      const [a, b] = t.slots;
      const va = slots.get(a) ?? 0;
      const vb = slots.get(b) ?? 0;
      typeIndiv.set(t.key, (typeIndiv.get(t.key) ?? 0) + va + vb);
      if (!incompletePairs.has(`${set}|${t.key}`) && va === 1 && vb === 1) typePair.set(t.key, (typePair.get(t.key) ?? 0) + 1);
    }
    let sum = 0;
    for (const v of slots.values()) sum += v;
    indiv += sum;
    if (!incompleteSets.has(set) && sum === 4) setCorrect += 1;
  }
  const pairCorrect = [...typePair.values()].reduce((a, b) => a + b, 0);
  return {
    convention,
    n,
    nMissing,
    individual: { correct: indiv, total: n, accuracy: ratio(indiv, n) },
    pair: { correct: pairCorrect, total: nPairable / 2, accuracy: ratio(pairCorrect, nPairable / 2), excludedPairs: incompletePairs.size },
    set: { correct: setCorrect, total: nSettable / 4, accuracy: ratio(setCorrect, nSettable / 4), excludedSets: incompleteSets.size },
    perType: TYPES.map((t) => ({
      type: t.key,
      label: t.label,
      individual: { correct: typeIndiv.get(t.key) ?? 0, total: n / 2, accuracy: ratio(typeIndiv.get(t.key) ?? 0, n / 2) },
      pair: { correct: typePair.get(t.key) ?? 0, total: nPairable / 4, accuracy: ratio(typePair.get(t.key) ?? 0, nPairable / 4) },
    })),
    correctById,
  };
}
