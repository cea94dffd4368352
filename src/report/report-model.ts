import type { ArmDifference, ArmMetricsWithCi, ComparisonWithTest, RunSummary } from '../analysis/summary.js';
import { type AgreementView, agreementViews, type PairModeRow, pairModeRows } from '../analysis/pair-views.js';
import type { ProbeTable } from '../analysis/probe-table.js';
import type { ProbeRun } from '../analysis/probe.js';
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

/** What a row of the per-item tables reads of an arm's sample. */
export type ItemPick = Pick<Sample, 'status' | 'correct' | 'prediction' | 'scores' | 'error' | 'options'>;

export interface ItemRow {
  item: string;
  image: string;
  images: string[];
  options: string[];
  correctOption: number;
  arm: ItemPick | undefined;
  baseline: ItemPick | undefined;
  outcome: 'both' | 'only arm' | 'only baseline' | 'neither' | 'excluded';
}

/** report.md lists at most this many items per arm pair (tables/items.csv and the explorer have every item). */
export const MAX_LISTED_ITEMS = 200;

/**
 * The items report.md lists for one arm pair: every item when there are at most MAX_LISTED_ITEMS,
 * else the items where the arms disagree, the first MAX_LISTED_ITEMS of them in item order. Rows
 * keep the first score row of each pick only (what the table shows).
 */
export interface ItemListing {
  /** Items of the pair. */
  total: number;
  /** Items where one arm is right and the other wrong. */
  disagreements: number;
  rows: ItemRow[];
}

export interface ComparisonView extends ComparisonWithTest {
  listing: ItemListing;
}

/** A failed sample as the report lists it. */
export interface FailedRow {
  benchmark: string;
  item: string;
  arm: string;
  code: string | undefined;
  message: string | undefined;
}

export type { AgreementView, PairAgreement, PairModeRow } from '../analysis/pair-views.js';

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
  /** Every failed sample, in the order of samples.jsonl. */
  failed: FailedRow[];
  tinyModels: string[];
  /** The linear probes (analysis/probe.ts) and their tables beside the other arms; the baseline names zero-shot matching. */
  probe: { tables: ProbeTable[]; runs: ProbeRun[]; baseline: string };
}

/** Item ids in numeric order (`x/2` before `x/10`); one collator, as `localeCompare(y, 'en', { numeric: true })` orders. */
const byNumericId = new Intl.Collator('en', { numeric: true }).compare;

/** Every item of one arm pair (the rows of tables/items.csv), in item order, with the arms' whole samples. */
export function comparisonRows(samples: Sample[], c: ComparisonWithTest): ItemRow[] {
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
      a === true && b === true
        ? 'both'
        : a === true && b === false
          ? 'only arm'
          : a === false && b === true
            ? 'only baseline'
            : a === false && b === false
              ? 'neither'
              : 'excluded';
    return {
      item: id,
      image: any.images[0]?.path ?? '',
      images: any.images.map((i) => i.path),
      options: any.options,
      correctOption: any.correct_option,
      arm,
      baseline,
      outcome,
    };
  });
}

function listedPick(s: ItemPick | undefined): ItemPick | undefined {
  if (!s) return undefined;
  return { status: s.status, correct: s.correct, prediction: s.prediction, scores: s.scores ? s.scores.slice(0, 1) : null, error: s.error, options: s.options };
}

/** The rows report.md lists of one pair's rows (ItemListing). */
export function itemListing(rows: ItemRow[], max = MAX_LISTED_ITEMS): ItemListing {
  const disagree = rows.filter((r) => r.outcome === 'only arm' || r.outcome === 'only baseline');
  const listed = rows.length <= max ? rows : disagree.slice(0, max);
  return {
    total: rows.length,
    disagreements: disagree.length,
    rows: listed.map((r) => ({ ...r, arm: listedPick(r.arm), baseline: listedPick(r.baseline) })),
  };
}

export function failedRow(s: Sample): FailedRow {
  return { benchmark: s.benchmark, item: s.item, arm: s.arm, code: s.error?.code, message: s.error?.message };
}

/** The parts of the report model that are not read from the summary, for assembleReportModel. */
export interface ReportParts {
  comparisons: ComparisonView[];
  agreement: AgreementView[];
  pairModes: PairModeRow[];
  failed: FailedRow[];
}

/** The per-benchmark parts of the report model of these samples (one benchmark's, or a whole run's). */
export function reportParts(samples: Sample[], summary: RunSummary, manifest: ReportManifest, baseline: string): ReportParts {
  const formats = new Map((manifest.config?.benchmarks ?? []).map((b) => [b.name, b.format]));
  return {
    comparisons: summary.comparisons.map((c) => ({ ...c, listing: itemListing(comparisonRows(samples, c)) })),
    agreement: agreementViews(samples, formats, baseline),
    pairModes: pairModeRows(samples, formats),
    failed: samples.filter((s) => s.status === 'failed').map(failedRow),
  };
}

export function buildReportModel(input: {
  summary: RunSummary;
  samples: Sample[];
  manifest: ReportManifest;
  wallMs?: number;
  baseline: string;
  probe?: { tables: ProbeTable[]; runs: ProbeRun[] };
}): ReportModel {
  const { samples, ...rest } = input;
  return assembleReportModel({ ...rest, parts: reportParts(samples, input.summary, input.manifest, input.baseline) });
}

/** The report model from the run's summary and its parts (whole, or merged from one benchmark's at a time). */
export function assembleReportModel(input: {
  summary: RunSummary;
  parts: ReportParts;
  manifest: ReportManifest;
  wallMs?: number;
  baseline: string;
  probe?: { tables: ProbeTable[]; runs: ProbeRun[] };
}): ReportModel {
  const { summary, manifest, parts } = input;
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
    comparisons: parts.comparisons,
    differences: summary.differences,
    agreement: parts.agreement,
    pairModes: parts.pairModes,
    references,
    errataNote: LABEL_ERRATA_NOTE,
    failed: parts.failed,
    tinyModels: (manifest.models ?? []).filter((m) => m.fixture).map((m) => m.name),
    probe: { tables: input.probe?.tables ?? [], runs: input.probe?.runs ?? [], baseline: input.baseline },
  };
}
