import type { BenchmarkFormat, PairViews } from '../benchmarks/benchmark-family.js';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { Sample } from '../store/sample.js';
import { armKind } from './arm-kind.js';
import { type RelaxedPair, relaxedPairAccuracy, singleImageRelaxedPairs } from '../core/pair-preference.js';

/**
 * The image-pair views of the report, for the benchmarks whose family declares them
 * (`BenchmarkFamily.pairViews`): the erroneous-agreement view and MMVP's pair modes.
 */

export interface PairAgreement {
  pair: string;
  cosine: number;
  /** arm → whether every item of the pair is right. */
  correct: Record<string, boolean>;
}

export interface AgreementView {
  benchmark: string;
  pairs: PairAgreement[];
  meanCosine: number;
  /** arm → pair accuracy over the pairs with a cosine. */
  pairAccuracy: Record<string, number>;
  bins: Array<{ bin: string; arm: string; accuracy: number; pairs: number }>;
}

/** One row of the MMVP view: a way of asking about an image pair, and its pair accuracy. */
export interface PairModeRow {
  benchmark: string;
  category: string;
  arm: string;
  /** Which variant the number comes from (always shown with it). */
  variant: 'one image per prompt' | 'both images in one prompt' | 'relaxed, single-image' | 'relaxed, two-image';
  correct: number;
  total: number;
  value: number | null;
}

const COSINE_BINS: Array<[string, number, number]> = [
  ['< 0.90', -Infinity, 0.9],
  ['0.90–0.95', 0.9, 0.95],
  ['0.95–0.99', 0.95, 0.99],
  ['≥ 0.99', 0.99, Infinity],
];

/** Item ids in numeric order (`x/2` before `x/10`); one collator, as `localeCompare(y, 'en', { numeric: true })` orders. */
const byNumericId = new Intl.Collator('en', { numeric: true }).compare;

/** The pair views a benchmark's family declares (none for a format no family reads). */
function pairViewsOf(format: string | undefined): PairViews | undefined {
  if (format === undefined) return undefined;
  try {
    return benchmarkFamily(format as BenchmarkFormat).pairViews;
  } catch {
    return undefined;
  }
}

function byBenchmark(samples: Iterable<Sample>): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const s of samples) {
    let list = out.get(s.benchmark);
    if (!list) out.set(s.benchmark, (list = []));
    list.push(s);
  }
  return out;
}

/**
 * The erroneous-agreement view: CLIP's image–image cosine of each image pair (recorded by the
 * baseline arm as `extra.image_pair_cosine` on the samples of a pair, keyed by the family's
 * `pairViews.pairKey`, or the item itself when it holds both images) beside each arm's accuracy on
 * that pair.
 */
export function agreementViews(samples: Sample[], formats: ReadonlyMap<string, string>, baseline: string): AgreementView[] {
  const out: AgreementView[] = [];
  for (const [benchmark, mine] of byBenchmark(samples)) {
    const views = pairViewsOf(formats.get(benchmark));
    if (!views?.agreement) continue;
    const pairOf = (s: Sample): string | undefined => s.groups[views.pairKey] ?? (s.images.length === 2 ? s.item : undefined);
    const cosines = new Map<string, number>();
    for (const s of mine) {
      const c = s.extra.image_pair_cosine;
      const pair = pairOf(s);
      if (s.arm === baseline && typeof c === 'number' && pair) cosines.set(pair, c);
    }
    if (cosines.size === 0) continue;
    const arms = [...new Set(mine.map((s) => s.arm))].sort();
    // arm → pair → [members, members right]
    const members = new Map<string, Map<string, [number, number]>>(arms.map((a) => [a, new Map()]));
    for (const s of mine) {
      const pair = pairOf(s);
      if (pair === undefined || !cosines.has(pair)) continue;
      const byPair = members.get(s.arm)!;
      const m = byPair.get(pair) ?? [0, 0];
      m[0] += 1;
      if (s.correct === true) m[1] += 1;
      byPair.set(pair, m);
    }
    const pairs: PairAgreement[] = [];
    for (const [pair, cosine] of [...cosines].sort((x, y) => byNumericId(x[0], y[0]))) {
      const correct: Record<string, boolean> = {};
      for (const arm of arms) {
        const m = members.get(arm)!.get(pair);
        correct[arm] = m !== undefined && m[0] > 0 && m[0] === m[1];
      }
      pairs.push({ pair, cosine, correct });
    }
    const pairAccuracy: Record<string, number> = {};
    for (const arm of arms) pairAccuracy[arm] = pairs.filter((p) => p.correct[arm]).length / pairs.length;
    const bins: AgreementView['bins'] = [];
    for (const [label, lo, hi] of COSINE_BINS) {
      const inBin = pairs.filter((p) => p.cosine >= lo && p.cosine < hi);
      if (inBin.length === 0) continue;
      for (const arm of arms) bins.push({ bin: label, arm, accuracy: inBin.filter((p) => p.correct[arm]).length / inBin.length, pairs: inBin.length });
    }
    out.push({ benchmark, pairs, meanCosine: pairs.reduce((s, p) => s + p.cosine, 0) / pairs.length, pairAccuracy, bins });
  }
  return out;
}

/** The arm kinds the pair-mode view compares: one image per prompt, both images in one prompt. */
const SINGLE = 'vlm.mcq';
const TWO = 'vlm.two-image';

/**
 * MMVP-style pairs (families declaring `pairViews.modes`; items with the pair key) answered by option
 * letters: the strict pair accuracy (both questions right) with one image per prompt (arms of kind
 * `vlm.mcq`) and with both images in one prompt (kind `vlm.two-image`, whatever the arm's label), and
 * Li et al. v1's relaxed pair metric in both variants (src/core/pair-preference.ts), per category
 * where the items have one.
 */
export function pairModeRows(samples: Sample[], formats: ReadonlyMap<string, string>): PairModeRow[] {
  const rows: PairModeRow[] = [];
  for (const [benchmark, all] of byBenchmark(samples)) {
    const views = pairViewsOf(formats.get(benchmark));
    if (!views?.modes) continue;
    const key = views.pairKey;
    const mine = all.filter((s) => {
      const kind = armKind(s);
      return (kind === SINGLE || kind === TWO) && s.groups[key] !== undefined && s.images.length === 1;
    });
    if (mine.length === 0) continue;
    const categoryOf = (s: Sample): string => s.groups.category ?? 'all';
    for (const arm of [...new Set(mine.map((s) => s.arm))].sort()) {
      const list = mine.filter((s) => s.arm === arm);
      const twoImage = armKind(list[0]!) === TWO;
      const categories = ['all', ...new Set(list.map(categoryOf).filter((c) => c !== 'all'))];
      for (const category of categories) {
        const inCat = category === 'all' ? list : list.filter((s) => categoryOf(s) === category);
        const byPair = new Map<string, Sample[]>();
        for (const s of inCat) {
          const l = byPair.get(s.groups[key]!) ?? [];
          l.push(s);
          byPair.set(s.groups[key]!, l);
        }
        const complete = [...byPair.values()].filter((l) => l.length === 2 && l.every((s) => s.correct !== null));
        const correct = complete.filter((l) => l.every((s) => s.correct)).length;
        rows.push({
          benchmark,
          category,
          arm,
          variant: twoImage ? 'both images in one prompt' : 'one image per prompt',
          correct,
          total: complete.length,
          value: complete.length ? correct / complete.length : null,
        });
        let relaxed: RelaxedPair[];
        if (twoImage) {
          relaxed = inCat.map((s) => s.extra.relaxed_pair as RelaxedPair | undefined).filter((r): r is RelaxedPair => r !== undefined && typeof r === 'object');
        } else {
          relaxed = singleImageRelaxedPairs(
            inCat.filter((s) => s.status === 'ok').map((s) => ({ ...s, groups: { ...s.groups, pair: s.groups[key]! }, source: { row: s.source.row } })),
          ).pairs;
        }
        const acc = relaxedPairAccuracy(relaxed);
        rows.push({
          benchmark,
          category,
          arm,
          variant: twoImage ? 'relaxed, two-image' : 'relaxed, single-image',
          correct: acc.correct,
          total: acc.total,
          value: acc.value,
        });
      }
    }
  }
  return rows;
}
