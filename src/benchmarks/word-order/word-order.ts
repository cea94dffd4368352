/**
 * The word-order test (issue 4 item 6), for any caption benchmark: each single-image item gets one
 * further option, its correct caption with the words shuffled (seeded), appended after the
 * authors' options. The authors' metric is computed on the item without that option (so its
 * numbers stay exactly the authors'); beside it the family reports how often the model scores the
 * well-formed caption strictly above its shuffle (the "bag of words" finding of Yuksekgonul et al.,
 * ICLR 2023), how often they tie, and how often the shuffle wins the whole item (first maximum).
 *
 * The shuffle splits on whitespace and permutes the words (Fisher–Yates) with a stream keyed by
 * (seed, row, caption); a permutation equal to the original is redrawn (up to 20 times). A caption
 * that cannot change (one word, or all words equal) gets no extra option
 * (`groups.word_order = 'unshufflable'`). ARO's own `shuffle_all_words` tokenises with spaCy and
 * keeps punctuation as tokens; this test is ours, not a port, and says so in its convention name.
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, HeadlineMetric, ProbeDeclaration } from '../benchmark-family.js';
import { seededStream } from '../seeded-random.js';

export const WORD_ORDER_CONVENTION = 'word_order';

/** The caption's words shuffled, or undefined when no permutation differs from it. */
export function shuffleCaptionWords(caption: string, seed: number, row: number): string | undefined {
  const words = caption
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (new Set(words).size < 2) return undefined;
  const next = seededStream(`word-order|${seed}|${row}|${caption}`);
  const original = words.join(' ');
  for (let attempt = 0; attempt < 20; attempt++) {
    const w = [...words];
    for (let i = w.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [w[i], w[j]] = [w[j] as string, w[i] as string];
    }
    const shuffled = w.join(' ');
    if (shuffled !== original) return shuffled;
  }
  return undefined;
}

/** The item with the shuffled correct caption appended (single-image items only). */
export function addWordOrderOption(item: Item, seed: number): Item {
  if (item.images.length !== 1) return { ...item, groups: { ...item.groups, word_order: 'not_applicable' } };
  const caption = item.options[item.correct];
  const shuffled = caption === undefined ? undefined : shuffleCaptionWords(caption, seed, item.source.row);
  if (shuffled === undefined) return { ...item, groups: { ...item.groups, word_order: 'unshufflable' } };
  return {
    ...item,
    options: [...item.options, shuffled],
    groups: { ...item.groups, word_order: 'added', word_order_option: String(item.options.length), word_order_seed: String(seed) },
  };
}

/** The index of the shuffled option, when the item has one. */
export function wordOrderOption(item: Item): number | undefined {
  if (item.groups.word_order !== 'added') return undefined;
  const i = Number(item.groups.word_order_option);
  return Number.isInteger(i) && i >= 0 ? i : undefined;
}

/** The item as its family loaded it (without the shuffled option). */
export function stripWordOrderItem(item: Item): Item {
  const wo = wordOrderOption(item);
  if (wo === undefined) return item;
  const groups = { ...item.groups };
  delete groups.word_order;
  delete groups.word_order_option;
  delete groups.word_order_seed;
  return { ...item, options: item.options.filter((_, i) => i !== wo), groups };
}

function stripScores(item: Item, scores: ScoreMatrix): ScoreMatrix {
  const wo = wordOrderOption(item);
  if (wo === undefined) return scores;
  return scores.map((row, r) => {
    if (row.length !== item.options.length) {
      throw new PerceiveError(
        'bad-scores',
        `item ${item.id}: image ${r} has ${row.length} option scores, expected ${item.options.length} (with the word-order option)`,
      );
    }
    return row.filter((_, i) => i !== wo);
  });
}

export interface WordOrderFigures {
  convention: typeof WORD_ORDER_CONVENTION;
  /** Items with a shuffled option and scores. */
  total: number;
  /** s(correct caption) > s(shuffled), strictly. */
  prefersWellFormed: number;
  ties: number;
  /** The shuffled option is the first maximum of the whole row. */
  picksShuffled: number;
  accuracy: number | null;
  /** Items with no shuffled option: one word / all words equal, or several images. */
  unshufflable: number;
  notApplicable: number;
}

export function wordOrderFigures(items: Item[], scores: Map<string, ScoreMatrix>): WordOrderFigures {
  let total = 0;
  let prefers = 0;
  let ties = 0;
  let picks = 0;
  let unshufflable = 0;
  let notApplicable = 0;
  for (const item of items) {
    if (item.groups.word_order === 'unshufflable') unshufflable += 1;
    if (item.groups.word_order === 'not_applicable') notApplicable += 1;
    const wo = wordOrderOption(item);
    const m = scores.get(item.id);
    if (wo === undefined || m === undefined) continue;
    const row = m[0];
    if (row === undefined || row.length !== item.options.length) continue;
    total += 1;
    const good = row[item.correct] as number;
    const bad = row[wo] as number;
    if (good > bad) prefers += 1;
    else if (good === bad) ties += 1;
    let best = 0;
    for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
    if (best === wo) picks += 1;
  }
  return {
    convention: WORD_ORDER_CONVENTION,
    total,
    prefersWellFormed: prefers,
    ties,
    picksShuffled: picks,
    accuracy: total > 0 ? prefers / total : null,
    unshufflable,
    notApplicable,
  };
}

/** Wraps a family so that `spec.word_order` adds the shuffled option and the metrics report on it. */
/** The family's probe with the shuffled option classless: the probe scores it 0. */
function probeWithoutWordOrder(probe: ProbeDeclaration): ProbeDeclaration {
  const optionClasses = probe.optionClasses;
  if (!optionClasses) return probe;
  return {
    ...probe,
    optionClasses: (item) => {
      const wo = item.groups.word_order === 'added' ? Number(item.groups.word_order_option) : -1;
      return optionClasses(item).map((row) => row.map((label, i) => (i === wo ? undefined : label)));
    },
  };
}

export function withWordOrder(family: BenchmarkFamily): BenchmarkFamily {
  const wrapped: BenchmarkFamily = {
    format: family.format,
    conventions: family.conventions,
    subsets: family.subsets,
    publishedFiles: family.publishedFiles,
    ...(family.bootstrap === undefined ? {} : { bootstrap: family.bootstrap }),
    ...(family.pairViews === undefined ? {} : { pairViews: family.pairViews }),
    ...(family.probe === undefined ? {} : { probe: probeWithoutWordOrder(family.probe) }),
    ...(family.defaultOptionOrder === undefined ? {} : { defaultOptionOrder: family.defaultOptionOrder }),
    externalId: (item) => family.externalId(item),

    async load(spec, options) {
      const loaded = await family.load(spec, options);
      if (!spec.word_order) return loaded;
      return { items: loaded.items.map((i) => addWordOrderOption(i, spec.seed)), failures: loaded.failures };
    },

    judge(item, scores) {
      if (wordOrderOption(item) === undefined) return family.judge(item, scores);
      return family.judge(stripWordOrderItem(item), stripScores(item, scores));
    },

    metrics(items, scores): BenchmarkMetrics {
      if (!items.some((i) => i.groups.word_order !== undefined)) return family.metrics(items, scores);
      const stripped = new Map<string, ScoreMatrix>();
      const byId = new Map(items.map((i) => [i.id, i] as const));
      for (const [id, m] of scores) {
        const item = byId.get(id);
        stripped.set(id, item === undefined ? m : stripScores(item, m));
      }
      const base = family.metrics(items.map(stripWordOrderItem), stripped);
      const figures = wordOrderFigures(items, scores);
      const headline: HeadlineMetric = {
        name: 'word_order',
        convention: WORD_ORDER_CONVENTION,
        value: figures.accuracy,
        correct: figures.prefersWellFormed,
        total: figures.total,
      };
      const details = typeof base.details === 'object' && base.details !== null ? base.details : { base: base.details };
      return { ...base, headline: [...base.headline, headline], details: { ...details, wordOrder: figures } };
    },
  };
  if (family.fromExternalScores !== undefined) {
    const f = family.fromExternalScores.bind(family);
    wrapped.fromExternalScores = (item, scores) => f(item, scores);
  }
  return wrapped;
}
