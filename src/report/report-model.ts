import { relaxedPairAccuracy, type RelaxedPair, singleImageRelaxedPairs } from '../core/pair-preference.js';
import type { ArmDifference, ArmMetricsWithCi, ComparisonWithTest, RunSummary } from '../analysis/summary.js';
import type { Sample } from '../store/sample.js';
import { LABEL_ERRATA_NOTE, type ReferenceNumber, referencesFor } from './reference-numbers.js';

/** What the manifest tells the report (validated loosely: older runs may lack fields). */
export interface ReportManifest {
  run_id?: string;
  created_at?: string;
  perceive?: { version: string; commit: string | null };
  llama_cpp?: { tag: string; build_info: string } | null;
  models?: Array<{ name: string; kind: string; files: string[]; hash: string; fixture?: boolean; metadata?: Record<string, unknown> }>;
  arms?: Array<{ arm: string; model: string; prompt: { id: string; version: number } | null }>;
  datasets?: Array<{ name: string; format?: string; annotations: string; annotations_sha256: string | null; items: number }>;
  config?: { benchmarks?: Array<{ name: string; format: string; subset: string }> };
}

export interface ItemRow {
  item: string;
  image: string;
  images: string[];
  options: string[];
  correctOption: number;
  arm: Sample | undefined;
  baseline: Sample | undefined;
  outcome: 'both' | 'only arm' | 'only baseline' | 'neither' | 'excluded';
}

export interface ComparisonView extends ComparisonWithTest {
  rows: ItemRow[];
}

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

export interface ReferenceView {
  benchmark: string;
  references: ReferenceNumber[];
  /** arm → our headline values by metric name. */
  ours: Array<{ arm: string; metric: string; value: number | null }>;
}

export interface ReportModel {
  runId: string;
  manifest: ReportManifest;
  wallMs: number | undefined;
  summary: RunSummary;
  arms: ArmMetricsWithCi[];
  comparisons: ComparisonView[];
  differences: ArmDifference[];
  agreement: AgreementView[];
  /** MMVP-style pairs: one image per prompt vs both images in one prompt vs the relaxed metric. */
  pairModes: PairModeRow[];
  references: ReferenceView[];
  errataNote: string;
  failed: Sample[];
  tinyModels: string[];
}

const COSINE_BINS: Array<[string, number, number]> = [
  ['< 0.90', -Infinity, 0.9],
  ['0.90–0.95', 0.9, 0.95],
  ['0.95–0.99', 0.95, 0.99],
  ['≥ 0.99', 0.99, Infinity],
];

const byNumericId = (x: string, y: string): number => x.localeCompare(y, 'en', { numeric: true });

function comparisonRows(samples: Sample[], c: ComparisonWithTest): ItemRow[] {
  const byItem = new Map<string, { arm?: Sample; baseline?: Sample }>();
  for (const s of samples) {
    if (s.benchmark !== c.benchmark) continue;
    if (s.arm !== c.arm && s.arm !== c.baseline) continue;
    let e = byItem.get(s.item);
    if (!e) byItem.set(s.item, (e = {}));
    if (s.arm === c.arm) e.arm = s;
    else e.baseline = s;
  }
  return [...byItem.keys()].sort(byNumericId).map((id) => {
    const { arm, baseline } = byItem.get(id)!;
    const any = (arm ?? baseline)!;
    const a = arm?.correct;
    const b = baseline?.correct;
    const outcome: ItemRow['outcome'] =
      a === true && b === true ? 'both' : a === true && b === false ? 'only arm' : a === false && b === true ? 'only baseline' : a === false && b === false ? 'neither' : 'excluded';
    return { item: id, image: any.images[0]?.path ?? '', images: any.images.map((i) => i.path), options: any.options, correctOption: any.correct_option, arm, baseline, outcome };
  });
}

/**
 * The erroneous-agreement view: CLIP's image–image cosine of each image pair (recorded by the
 * CLIP arm as `extra.image_pair_cosine` on the samples of a pair, keyed by `groups.pair`) beside
 * each arm's accuracy on that pair.
 */
function agreementViews(samples: Sample[], baseline: string): AgreementView[] {
  const out: AgreementView[] = [];
  const benchmarks = [...new Set(samples.map((s) => s.benchmark))];
  for (const benchmark of benchmarks) {
    const mine = samples.filter((s) => s.benchmark === benchmark);
    const cosines = new Map<string, number>();
    // A pair is `groups.pair` (What'sUp: two items differing only in the relation), or an item that
    // holds both images itself (MMVP-VLM pairs).
    const pairOf = (s: Sample): string | undefined => s.groups.pair ?? (s.images.length === 2 ? s.item : undefined);
    for (const s of mine) {
      const c = s.extra.image_pair_cosine;
      const pair = pairOf(s);
      if (s.arm === baseline && typeof c === 'number' && pair) cosines.set(pair, c);
    }
    if (cosines.size === 0) continue;
    const arms = [...new Set(mine.map((s) => s.arm))].sort();
    const pairs: PairAgreement[] = [];
    for (const [pair, cosine] of [...cosines].sort((x, y) => byNumericId(x[0], y[0]))) {
      const correct: Record<string, boolean> = {};
      for (const arm of arms) {
        const members = mine.filter((s) => s.arm === arm && pairOf(s) === pair);
        correct[arm] = members.length > 0 && members.every((s) => s.correct === true);
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

/**
 * MMVP-style pairs (items with `groups.pair`) answered by option letters: the strict pair
 * accuracy (both questions right) with one image per prompt (`vlm.mcq`) and with both images in
 * one prompt (`vlm.two-image`), and Li et al. v1's relaxed pair metric in both variants
 * (src/arms/pair-preference.ts), per category where the items have one.
 */
function pairModeRows(samples: Sample[], formats: Map<string, string>): PairModeRow[] {
  const rows: PairModeRow[] = [];
  const arms = ['vlm.mcq', 'vlm.two-image'];
  for (const benchmark of [...new Set(samples.map((s) => s.benchmark))]) {
    if (formats.get(benchmark) !== 'mmvp') continue;
    const mine = samples.filter((s) => s.benchmark === benchmark && arms.some((a) => s.arm === a || s.arm.startsWith(`${a}.`)) && s.groups.pair !== undefined && s.images.length === 1);
    if (mine.length === 0) continue;
    const categoryOf = (s: Sample): string => s.groups.category ?? 'all';
    for (const arm of [...new Set(mine.map((s) => s.arm))].sort()) {
      const list = mine.filter((s) => s.arm === arm);
      const categories = ['all', ...new Set(list.map(categoryOf).filter((c) => c !== 'all'))];
      for (const category of categories) {
        const inCat = category === 'all' ? list : list.filter((s) => categoryOf(s) === category);
        const byPair = new Map<string, Sample[]>();
        for (const s of inCat) {
          const l = byPair.get(s.groups.pair!) ?? [];
          l.push(s);
          byPair.set(s.groups.pair!, l);
        }
        const complete = [...byPair.values()].filter((l) => l.length === 2 && l.every((s) => s.correct !== null));
        const correct = complete.filter((l) => l.every((s) => s.correct)).length;
        const strict = arm.startsWith('vlm.two-image') ? 'both images in one prompt' : 'one image per prompt';
        rows.push({ benchmark, category, arm, variant: strict, correct, total: complete.length, value: complete.length ? correct / complete.length : null });
        let relaxed: RelaxedPair[];
        if (arm.startsWith('vlm.two-image')) {
          relaxed = inCat.map((s) => s.extra.relaxed_pair as RelaxedPair | undefined).filter((r): r is RelaxedPair => r !== undefined && typeof r === 'object');
        } else {
          relaxed = singleImageRelaxedPairs(inCat.filter((s) => s.status === 'ok').map((s) => ({ ...s, source: { row: s.source.row } }))).pairs;
        }
        const acc = relaxedPairAccuracy(relaxed);
        rows.push({
          benchmark, category, arm, variant: arm.startsWith('vlm.two-image') ? 'relaxed, two-image' : 'relaxed, single-image',
          correct: acc.correct, total: acc.total, value: acc.value,
        });
      }
    }
  }
  return rows;
}

export function buildReportModel(input: { summary: RunSummary; samples: Sample[]; manifest: ReportManifest; wallMs?: number; baseline: string }): ReportModel {
  const { summary, samples, manifest } = input;
  const benchmarks = manifest.config?.benchmarks ?? [];
  const references: ReferenceView[] = [];
  for (const b of benchmarks) {
    const refs = referencesFor(b.format, b.subset);
    if (refs.length === 0) continue;
    const ours = summary.arms
      .filter((a) => a.benchmark === b.name)
      .flatMap((a) => a.metrics.headline.map((h) => ({ arm: a.arm, metric: h.name, value: h.value })));
    references.push({ benchmark: b.name, references: refs, ours });
  }
  return {
    runId: manifest.run_id ?? summary.run_id,
    manifest,
    wallMs: input.wallMs,
    summary,
    arms: summary.arms,
    comparisons: summary.comparisons.map((c) => ({ ...c, rows: comparisonRows(samples, c) })),
    differences: summary.differences,
    agreement: agreementViews(samples, input.baseline),
    pairModes: pairModeRows(samples, new Map(benchmarks.map((b) => [b.name, b.format]))),
    references,
    errataNote: LABEL_ERRATA_NOTE,
    failed: samples.filter((s) => s.status === 'failed'),
    tinyModels: (manifest.models ?? []).filter((m) => m.fixture).map((m) => m.name),
  };
}
