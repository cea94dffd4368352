/**
 * Text-to-image pair scoring of MMVP-VLM and of MMVP with Li et al.'s statements.
 *
 * Ported (not copied) from `eval_MMVP` in
 * `lst627/CLIP-Embeds@1c73a50a153ccc9d89e2eddabb69f8cc05f1a0be:Patch-Aligned-Contrastive-Learning/eval_clip.py`
 * (CLIP), `…/eval_vqa_score.py` (LLaVA VQAScore) and
 * `tsb0601/MMVP@763500597e65c3446f09047837ceda76f4e264bf:scripts/evaluate_vlm.py` (`benchmark_model`).
 *
 * How `scores[image][option]` maps onto the authors' matrices:
 * - eval_clip.py builds `text_probs = (100.0 * text_features @ image_features.T).softmax(dim=-1)`: a 2x2
 *   [text, image] matrix of 100 × cosine, softmaxed over the images. Our `scores[i][t]` is the cosine of
 *   image i and text t, so the authors' row for text t is `[100·scores[0][t], 100·scores[1][t]]`.
 * - eval_vqa_score.py calls t2v_metrics `VQAScore(images=[img1, img2], texts=[text1, text2])`, which returns
 *   an m×n [image, text] matrix (t2v_metrics `score.py` `forward`): exactly `scores[image][option]`. It then
 *   transposes it to [text, image] and softmaxes over the images **with no scale** (the VQAScores, which
 *   are probabilities, are the logits). That is convention `clip_embeds_vqascore` (logit scale 1).
 * - VLM2Vec/eval_llava15.py (LLaVA as an embedder) builds the same [text, image] matrix of raw
 *   cosines (`compute_similarity`) and softmaxes it with no scale: convention `clip_embeds_vlm2vec`.
 * - evaluate_vlm.py uses OpenAI CLIP's `logits_per_text` (logit_scale.exp() = 100 for the released
 *   models) softmaxed over the images: convention `mmvp_vlm` (scale 100).
 *
 * Then, for each text t: P = softmax_images(scale · scores[·][t])[0]; pred = image 1 if P > 0.5 else
 * image 2 (a strict inequality: an exact tie, P = 0.5, picks image 2; a NaN picks image 2). Since
 * softmax is monotone, pred = image 1 exactly when scale·s[0][t] > scale·s[1][t] up to the rounding of
 * the softmax; both are computed here literally, in float64 (the authors' torch runs float32).
 * gt = image 1 when qid is odd. A pair is right when both texts are. Overall pair accuracy =
 * correct pairs / num_pairs; individual = correct texts / num_pairs / 2. Per category, the authors divide
 * by `num_pairs // len(categories)` (pairs) and `num_pairs * 2 // len(categories)` (texts), which on the
 * full file is the category's own count (15 / 30); both that and the plain per-category ratio are reported.
 *
 * Missing scores (our rule): a pair without scores is left out (num_pairs counts the scored pairs).
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import { categoriesFor, type StatementLayout } from './loader.js';

export type T2iConvention = 'clip_embeds' | 'clip_embeds_vqascore' | 'clip_embeds_vlm2vec' | 'mmvp_vlm';

export const T2I_CONVENTIONS: Record<T2iConvention, { logitScale: number; source: string }> = {
  clip_embeds: {
    logitScale: 100,
    source: 'lst627/CLIP-Embeds@1c73a50:Patch-Aligned-Contrastive-Learning/eval_clip.py eval_MMVP',
  },
  clip_embeds_vqascore: {
    logitScale: 1,
    source: 'lst627/CLIP-Embeds@1c73a50:Patch-Aligned-Contrastive-Learning/eval_vqa_score.py eval_MMVP',
  },
  clip_embeds_vlm2vec: {
    logitScale: 1,
    source: 'lst627/CLIP-Embeds@1c73a50:VLM2Vec/eval_llava15.py eval_MMVP',
  },
  mmvp_vlm: {
    logitScale: 100,
    source: 'tsb0601/MMVP@7635005:scripts/evaluate_vlm.py benchmark_model',
  },
};

export interface T2iOutcome {
  /** P(image 1 | text 1), P(image 1 | text 2): the authors' `img1_score1`, `img1_score2` (q1score, q2score). */
  p: [number, number];
  /** Image index each text picked (0 = img1). */
  pred: [number, number];
  gt: [number, number];
  right: [boolean, boolean];
  pair: boolean;
}

/** softmax([scale·a, scale·b])[0], computed as torch does (subtract the max, exponentiate, normalise). */
export function softmaxFirst(a: number, b: number, scale: number): number {
  const za = scale * a;
  const zb = scale * b;
  const m = Math.max(za, zb);
  const ea = Math.exp(za - m);
  const eb = Math.exp(zb - m);
  return ea / (ea + eb);
}

function gtOf(item: Item): [number, number] {
  const g = item.groups.gt;
  if (g === '0,0' || g === '0,1' || g === '1,0' || g === '1,1') return [Number(g[0]), Number(g[2])];
  const gt = item.meta.gt;
  if (!Array.isArray(gt) || gt.length !== 2 || !gt.every((g) => g === 0 || g === 1)) {
    throw new PerceiveError('mmvp-bad-item', `MMVP pair item ${item.id} has no meta.gt [gt1, gt2]`);
  }
  return [gt[0] as number, gt[1] as number];
}

/** One pair as eval_MMVP scores it. `scores` must be 2 images × 2 options. */
export function t2iPairOutcome(item: Item, scores: ScoreMatrix, logitScale: number): T2iOutcome {
  const r0 = scores[0];
  const r1 = scores[1];
  if (scores.length !== 2 || r0 === undefined || r1 === undefined || r0.length !== 2 || r1.length !== 2) {
    throw new PerceiveError('mmvp-bad-scores', `MMVP pair ${item.id}: scores must be 2 images × 2 statements, got ${scores.length}×${r0?.length ?? 0}`);
  }
  const gt = gtOf(item);
  const p: [number, number] = [softmaxFirst(r0[0] as number, r1[0] as number, logitScale), softmaxFirst(r0[1] as number, r1[1] as number, logitScale)];
  const pred: [number, number] = [p[0] > 0.5 ? 0 : 1, p[1] > 0.5 ? 0 : 1];
  const right: [boolean, boolean] = [pred[0] === gt[0], pred[1] === gt[1]];
  return { p, pred, gt, right, pair: right[0] && right[1] };
}

export interface T2iCategoryRecord {
  category: string;
  pairs: number;
  pairCorrect: number;
  textCorrect: number;
  pairAccuracy: number | null;
  individualAccuracy: number | null;
  /** pairCorrect / (num_pairs // len(categories)), as the authors divide; null when that is 0. */
  authorsPairAccuracy: number | null;
  /** textCorrect / (num_pairs * 2 // len(categories)). */
  authorsIndividualAccuracy: number | null;
}

export interface T2iMetrics {
  convention: T2iConvention;
  logitScale: number;
  source: string;
  layout: StatementLayout;
  numPairs: number;
  nMissing: number;
  missingIds: string[];
  pair: { correct: number; total: number; accuracy: number | null };
  individual: { correct: number; total: number; accuracy: number | null };
  perCategory: T2iCategoryRecord[];
  /** evaluate_vlm.py's "Avg": the mean of the authors' per-category pair accuracies. */
  categoryMeanPairAccuracy: number | null;
  outcomes: Record<string, T2iOutcome>;
}

const ratio = (c: number, t: number): number | null => (t === 0 ? null : c / t);

/**
 * evaluate_vlm.py's "Avg": the mean over the categories (in `categoriesFor` order) of the authors'
 * per-category pair accuracy pairCorrect / (num_pairs // len(categories)); null when that is 0.
 */
export function authorsCategoryMean(pairCorrect: readonly number[], numPairs: number): number | null {
  const pairDen = Math.floor(numPairs / pairCorrect.length);
  const authorsPair = pairCorrect.map((c) => ratio(c, pairDen));
  return authorsPair.some((v) => v === null) ? null : (authorsPair as number[]).reduce((a, b) => a + b, 0) / authorsPair.length;
}

export function mmvpT2iMetrics(all: Item[], scores: Map<string, ScoreMatrix>, convention: T2iConvention = 'clip_embeds'): T2iMetrics {
  const { logitScale, source } = T2I_CONVENTIONS[convention];
  // A row that failed to load comes back from the store without groups: it is missing.
  const items = all.filter((i) => i.groups.category !== undefined);
  const layoutOf = (i: Item): unknown => i.groups.layout ?? i.meta.layout;
  const layouts = new Set(items.map(layoutOf));
  if (layouts.size > 1) throw new PerceiveError('mmvp-mixed-items', 'MMVP text-to-image metrics are computed per file: the items mix layouts');
  const layout = (items.length > 0 ? (layoutOf(items[0] as Item) ?? 'mmvp-vlm') : 'mmvp-vlm') as StatementLayout;
  const categories = categoriesFor(layout);
  const outcomes: Record<string, T2iOutcome> = {};
  const missingIds: string[] = all.filter((i) => i.groups.category === undefined).map((i) => i.id);
  const perCat = new Map(categories.map((c) => [c, { pairs: 0, pairCorrect: 0, textCorrect: 0 }]));
  for (const item of items) {
    const m = scores.get(item.id);
    if (m === undefined) {
      missingIds.push(item.id);
      continue;
    }
    const o = t2iPairOutcome(item, m, logitScale);
    outcomes[item.id] = o;
    const cat = perCat.get(item.groups.category ?? '');
    if (cat === undefined)
      throw new PerceiveError('mmvp-bad-item', `MMVP pair ${item.id}: category ${JSON.stringify(item.groups.category)} is not one of ${categories.join(', ')}`);
    cat.pairs += 1;
    if (o.pair) cat.pairCorrect += 1;
    cat.textCorrect += (o.right[0] ? 1 : 0) + (o.right[1] ? 1 : 0);
  }
  const numPairs = Object.keys(outcomes).length;
  let pairCorrect = 0;
  let textCorrect = 0;
  for (const c of perCat.values()) {
    pairCorrect += c.pairCorrect;
    textCorrect += c.textCorrect;
  }
  const pairDen = Math.floor(numPairs / categories.length);
  const textDen = Math.floor((numPairs * 2) / categories.length);
  const perCategory: T2iCategoryRecord[] = categories.map((category) => {
    const c = perCat.get(category) as { pairs: number; pairCorrect: number; textCorrect: number };
    return {
      category,
      pairs: c.pairs,
      pairCorrect: c.pairCorrect,
      textCorrect: c.textCorrect,
      pairAccuracy: ratio(c.pairCorrect, c.pairs),
      individualAccuracy: ratio(c.textCorrect, 2 * c.pairs),
      authorsPairAccuracy: ratio(c.pairCorrect, pairDen),
      authorsIndividualAccuracy: ratio(c.textCorrect, textDen),
    };
  });
  const categoryMeanPairAccuracy = authorsCategoryMean(
    perCategory.map((r) => r.pairCorrect),
    numPairs,
  );
  return {
    convention,
    logitScale,
    source,
    layout,
    numPairs,
    nMissing: missingIds.length,
    missingIds,
    pair: { correct: pairCorrect, total: numPairs, accuracy: ratio(pairCorrect, numPairs) },
    individual: { correct: textCorrect, total: 2 * numPairs, accuracy: ratio(textCorrect, 2 * numPairs) },
    perCategory,
    categoryMeanPairAccuracy,
    outcomes,
  };
}
