/**
 * The four Order perturbations of the ARO code, ported (not copied) from
 * `mertyg/vision-language-models-are-bows@81fdd20dc5b6f434aa5a4a971717bc80d1cedb0d:dataset_zoo/perturbations.py`,
 * class `TextShuffler` (`shuffle_nouns_and_adj`, `shuffle_allbut_nouns_and_adj`, `get_trigrams`,
 * `trigram_shuffle`, `shuffle_within_trigrams`, `shuffle_trigrams`), in the order `COCO_Order` /
 * `Flickr30k_Order.__init__` (`dataset_zoo/aro_datasets.py`) append them after the original caption.
 *
 * - nouns and adjectives: spaCy tokens; the nouns are permuted among the noun positions, then the
 *   adjectives among the adjective positions; tokens joined with " ".
 * - all but nouns and adjectives: every other token (incl. punctuation) is permuted among its positions.
 * - within trigrams: nltk tokens cut into consecutive groups of 3 (the last may be shorter); each group
 *   is shuffled; groups joined with " ".
 * - trigrams: the same groups, their order shuffled, each kept intact.
 *
 * Tags and tokens come from `pos-tagger.ts` (compromise mapped to spaCy NN-star / JJ-star tags), randomness from a
 * stream seeded per caption (`seeded-shuffle.ts`).
 */
import { tagWords, wordTokenize } from './pos-tagger.js';
import type { SeededStream } from './seeded-shuffle.js';

export const ORDER_PERTURBATIONS = ['shuffle_nouns_and_adj', 'shuffle_allbut_nouns_and_adj', 'shuffle_within_trigrams', 'shuffle_trigrams'] as const;
export type OrderPerturbation = (typeof ORDER_PERTURBATIONS)[number];

function permuteAt(tokens: string[], positions: number[], rng: SeededStream): void {
  const values = rng.shuffle(positions.map((i) => tokens[i] as string));
  positions.forEach((p, k) => {
    tokens[p] = values[k] as string;
  });
}

export function shuffleNounsAndAdj(caption: string, rng: SeededStream): string {
  const tagged = tagWords(caption);
  const tokens = tagged.map((t) => t.text);
  const nouns = tagged.flatMap((t, i) => (t.cls === 'NOUN' ? [i] : []));
  const adjs = tagged.flatMap((t, i) => (t.cls === 'ADJ' ? [i] : []));
  permuteAt(tokens, nouns, rng);
  permuteAt(tokens, adjs, rng);
  return tokens.join(' ');
}

export function shuffleAllButNounsAndAdj(caption: string, rng: SeededStream): string {
  const tagged = tagWords(caption);
  const tokens = tagged.map((t) => t.text);
  permuteAt(
    tokens,
    tagged.flatMap((t, i) => (t.cls === 'OTHER' ? [i] : [])),
    rng,
  );
  return tokens.join(' ');
}

/** `get_trigrams`: consecutive groups of three, the last one possibly shorter. */
export function getTrigrams<T>(tokens: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < tokens.length; i += 3) out.push(tokens.slice(i, i + 3));
  return out;
}

export function shuffleWithinTrigrams(caption: string, rng: SeededStream): string {
  const trigrams = getTrigrams(wordTokenize(caption));
  for (const t of trigrams) rng.shuffle(t);
  return trigrams.map((t) => t.join(' ')).join(' ');
}

export function shuffleTrigrams(caption: string, rng: SeededStream): string {
  const trigrams = rng.shuffle(getTrigrams(wordTokenize(caption)));
  return trigrams.map((t) => t.join(' ')).join(' ');
}

export const PERTURB: Record<OrderPerturbation, (caption: string, rng: SeededStream) => string> = {
  shuffle_nouns_and_adj: shuffleNounsAndAdj,
  shuffle_allbut_nouns_and_adj: shuffleAllButNounsAndAdj,
  shuffle_within_trigrams: shuffleWithinTrigrams,
  shuffle_trigrams: shuffleTrigrams,
};
