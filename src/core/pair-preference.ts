/**
 * Li, Koh & Du v1 ("On Erroneous Agreements of CLIP Image Embeddings", arXiv 2411.05195v1, §5.2,
 * Eq. 3) "relaxed" pair metric for MMVP: each image's preference over the answer options is
 * normalised; a pair counts when image 1 prefers option 1 (image 1's correct answer) more than
 * image 2 does. Their code for this is not public, so this follows the paper's words: normalised probabilities, strict comparison.
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

/** The fields of a sample (samples.jsonl line) the single-image variant reads. */
export interface PairSample {
  item: string;
  benchmark: string;
  subset: string;
  groups: Record<string, string>;
  options: string[];
  correct_option: number;
  scores: number[][] | null;
  source: { row: number };
}

/**
 * The `single-image` variant from one arm's samples (vlm.mcq): the two single-image samples of a
 * pair (same benchmark, subset, `groups.pair`; image 1 = the lower source row) with the same options
 * give the pair [image 1's row, image 2's row], compared on image 1's correct option. Pairs with a
 * failed member or different options are left out and counted in `skipped`.
 */
export function singleImageRelaxedPairs(samples: PairSample[]): { pairs: Array<RelaxedPair & { pair: string; items: [string, string] }>; skipped: number } {
  const groups = new Map<string, PairSample[]>();
  for (const s of samples) {
    const pair = s.groups.pair;
    if (pair === undefined) continue;
    const key = `${s.benchmark}\u0000${s.subset}\u0000${pair}`;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(s);
  }
  const pairs: Array<RelaxedPair & { pair: string; items: [string, string] }> = [];
  let skipped = 0;
  for (const list of groups.values()) {
    if (list.length !== 2) {
      skipped += 1;
      continue;
    }
    const [a, b] = [...list].sort((x, y) => x.source.row - y.source.row) as [PairSample, PairSample];
    if (!a.scores || !b.scores || a.scores.length !== 1 || b.scores.length !== 1 || JSON.stringify(a.options) !== JSON.stringify(b.options)) {
      skipped += 1;
      continue;
    }
    pairs.push({ ...relaxedPair([a.scores[0]!, b.scores[0]!], a.correct_option, 'single-image'), pair: a.groups.pair!, items: [a.item, b.item] });
  }
  return { pairs, skipped };
}
