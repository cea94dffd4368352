/**
 * Winoground text, image and group scores as Thrush et al. (CVPR 2022, arXiv 2204.03162, §3 "Metrics")
 * define them, with s(C, I) the model's score of caption C and image I (all inequalities strict):
 *
 * - text score:  s(C0, I0) > s(C1, I0) and s(C1, I1) > s(C0, I1)   (for each image, its caption wins)
 * - image score: s(C0, I0) > s(C0, I1) and s(C1, I1) > s(C1, I0)   (for each caption, its image wins)
 * - group score: text and image score both.
 *
 * The authors' evaluation code is a Colab notebook linked from the dataset card (not in git); the same
 * three functions, read here, are in `ajd12342/why-winoground-hard@78e971096db3d4feef96e6419ab56708f780c441:score_subsets.py`
 * (`text_score = img0_text0 > img0_text1 and img1_text1 > img1_text0`, `image_score = img0_text0 >
 * img1_text0 and img1_text1 > img0_text1`, `group_score = text_score and image_score`), a tie is wrong.
 * Each score is the mean over examples, overall and per `tag`, `secondary_tag`, `collapsed_tag` and
 * `num_main_preds` (the paper's per-tag tables). Our matrix is `scores[image][caption]`, so
 * s(Cj, Ik) = scores[k][j]. Missing items are left out (our rule).
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';

export interface WinogroundOutcome {
  text: boolean;
  image: boolean;
  group: boolean;
}

export function winogroundOutcome(item: Item, m: ScoreMatrix): WinogroundOutcome {
  const r0 = m[0];
  const r1 = m[1];
  if (m.length !== 2 || r0?.length !== 2 || r1?.length !== 2) {
    throw new PerceiveError('winoground-bad-scores', `Winoground item ${item.id}: expected 2 image rows of 2 caption scores, got ${m.length} row(s)`);
  }
  const c0i0 = r0[0] as number;
  const c1i0 = r0[1] as number;
  const c0i1 = r1[0] as number;
  const c1i1 = r1[1] as number;
  const text = c0i0 > c1i0 && c1i1 > c0i1;
  const image = c0i0 > c0i1 && c1i1 > c1i0;
  return { text, image, group: text && image };
}

export interface WinogroundCounts {
  n: number;
  text: number;
  image: number;
  group: number;
  textScore: number | null;
  imageScore: number | null;
  groupScore: number | null;
}

export interface WinogroundMetrics {
  n: number;
  nMissing: number;
  overall: WinogroundCounts;
  /** Per value of each tag field, sorted by value; an empty value is labelled `(none)`. */
  perTag: Record<'tag' | 'secondary_tag' | 'collapsed_tag' | 'num_main_preds', Array<{ label: string } & WinogroundCounts>>;
}

const TAG_FIELDS = ['tag', 'secondary_tag', 'collapsed_tag', 'num_main_preds'] as const;

function counts(outcomes: WinogroundOutcome[]): WinogroundCounts {
  const n = outcomes.length;
  const text = outcomes.filter((o) => o.text).length;
  const image = outcomes.filter((o) => o.image).length;
  const group = outcomes.filter((o) => o.group).length;
  const r = (k: number) => (n > 0 ? k / n : null);
  return { n, text, image, group, textScore: r(text), imageScore: r(image), groupScore: r(group) };
}

export function winogroundMetrics(items: Item[], scores: Map<string, ScoreMatrix>): WinogroundMetrics {
  const scored: Array<{ item: Item; o: WinogroundOutcome }> = [];
  for (const item of items) {
    const m = scores.get(item.id);
    if (m !== undefined) scored.push({ item, o: winogroundOutcome(item, m) });
  }
  const perTag = {} as WinogroundMetrics['perTag'];
  for (const field of TAG_FIELDS) {
    const by = new Map<string, WinogroundOutcome[]>();
    for (const { item, o } of scored) {
      const v = item.groups[field] ?? '';
      const label = v === '' ? '(none)' : v;
      let list = by.get(label);
      if (!list) by.set(label, (list = []));
      list.push(o);
    }
    perTag[field] = [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, os]) => ({ label, ...counts(os) }));
  }
  return { n: scored.length, nMissing: items.length - scored.length, overall: counts(scored.map((s) => s.o)), perTag };
}
