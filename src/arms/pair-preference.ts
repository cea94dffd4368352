/**
 * Li, Koh & Du v1 ("On Erroneous Agreements of CLIP Image Embeddings", arXiv 2411.05195v1, §5.2,
 * Eq. 3) "relaxed" pair metric for MMVP: each image's preference over the answer options is
 * normalised; a pair counts when image 1 prefers option 1 (image 1's correct answer) more than
 * image 2 does. Their code for this is not public (shared/notes/benchmarks-and-methods.md §2.3),
 * so this follows the paper's words: normalised probabilities, strict comparison.
 *
 * Two variants are computed and always named with the number:
 * - `single-image`: from `vlm.mcq` scores, each image asked in its own prompt;
 * - `two-image`: from `vlm.two-image` scores, both images in one prompt.
 */
export type RelaxedPairVariant = 'single-image' | 'two-image';

export interface RelaxedPair {
  variant: RelaxedPairVariant;
  /** image 1's correct option */
  option: number;
  /** P(option | image 1) and P(option | image 2), each renormalised over the options */
  p_image1: number;
  p_image2: number;
  correct: boolean;
}

/** Softmax of a row of log-scores (log-probabilities renormalise to themselves). */
export function normalisedPreference(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The relaxed pair result of one image pair from its 2 × options matrix of log-probabilities. */
export function relaxedPair(scores: number[][], option: number, variant: RelaxedPairVariant): RelaxedPair {
  if (scores.length !== 2) throw new Error(`the relaxed pair metric needs 2 images, got ${scores.length}`);
  const p1 = normalisedPreference(scores[0]!)[option]!;
  const p2 = normalisedPreference(scores[1]!)[option]!;
  return { variant, option, p_image1: p1, p_image2: p2, correct: p1 > p2 };
}

/** Accuracy over pairs, naming the variant it comes from. */
export function relaxedPairAccuracy(pairs: RelaxedPair[]): { variant: RelaxedPairVariant | 'mixed'; correct: number; total: number; value: number | null } {
  const variants = new Set(pairs.map((p) => p.variant));
  const variant = variants.size === 1 ? [...variants][0]! : 'mixed';
  const correct = pairs.filter((p) => p.correct).length;
  return { variant, correct, total: pairs.length, value: pairs.length === 0 ? null : correct / pairs.length };
}
