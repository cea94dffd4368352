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
  failed: Sample[];
  tinyModels: string[];
  /** The linear probes (analysis/probe.ts) and their tables beside the other arms; the baseline names zero-shot matching. */
  probe: { tables: ProbeTable[]; runs: ProbeRun[]; baseline: string };
}

/** Item ids in numeric order (`x/2` before `x/10`); one collator, as `localeCompare(y, 'en', { numeric: true })` orders. */
const byNumericId = new Intl.Collator('en', { numeric: true }).compare;

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

export function buildReportModel(input: {
  summary: RunSummary;
  samples: Sample[];
  manifest: ReportManifest;
  wallMs?: number;
  baseline: string;
  probe?: { tables: ProbeTable[]; runs: ProbeRun[] };
}): ReportModel {
  const { summary, samples, manifest } = input;
  const benchmarks = manifest.config?.benchmarks ?? [];
  const formats = new Map(benchmarks.map((b) => [b.name, b.format]));
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
    agreement: agreementViews(samples, formats, input.baseline),
    pairModes: pairModeRows(samples, formats),
    references,
    errataNote: LABEL_ERRATA_NOTE,
    failed: samples.filter((s) => s.status === 'failed'),
    tinyModels: (manifest.models ?? []).filter((m) => m.fixture).map((m) => m.name),
    probe: { tables: input.probe?.tables ?? [], runs: input.probe?.runs ?? [], baseline: input.baseline },
  };
}
