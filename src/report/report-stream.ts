import { agreementViews, pairModeRows } from '../analysis/pair-views.js';
import { applyProbes, type ProbeRun } from '../analysis/probe.js';
import { type ProbeTable, probeTables } from '../analysis/probe-table.js';
import { slimSamples } from '../analysis/report-samples.js';
import { type ComparisonWithTest, type RunSummary, summarise } from '../analysis/summary.js';
import { mergeSummaries } from '../analysis/summary-merge.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { type BenchmarkLines, readBenchmarkSamples, type SampleIndex } from '../store/sample-index.js';
import type { Sample } from '../store/sample.js';
import {
  type AgreementView,
  assembleReportModel,
  type ComparisonView,
  comparisonRows,
  type FailedRow,
  failedRow,
  type ItemRow,
  itemListing,
  type PairModeRow,
  type ReportManifest,
  type ReportModel,
} from './report-model.js';

/**
 * The report one benchmark at a time (issue 16). Every figure of the report is per benchmark
 * (metrics and CIs, 2x2s and McNemar, differences, agreement, pair modes, CircularEval, position
 * bias, probes, the headline's Holm family), so the report reads one benchmark's samples
 * (sample-index.ts: a first pass keeps only where each benchmark's lines are), analyses them, hands
 * its item rows to a sink (tables/items.csv) and keeps only what the report shows of it
 * (BenchmarkAnalysis: its summary, at most MAX_LISTED_ITEMS listed items per arm pair, its failed
 * samples as rows); ReportAssembler puts the benchmarks' parts together in the order a pass over the
 * whole run would have found them (the line of each benchmark's, arm's, failure code's and probe's
 * first sample), so the report is the same, byte for byte, as one built from every sample at once.
 */

/** What the analysis of every benchmark shares: the run, its formats and baseline, the bootstrap. */
export interface ReportContext {
  runId: string;
  manifest: ReportManifest;
  formats: Map<string, BenchmarkSpec['format']>;
  baseline: string;
  iterations?: number;
  seed?: number;
}

/** The bootstrap settings a context sets (summarise's defaults for the rest). */
function bootstrapOptions(context: ReportContext): { iterations?: number; seed?: number } {
  return {
    ...(context.iterations === undefined ? {} : { iterations: context.iterations }),
    ...(context.seed === undefined ? {} : { seed: context.seed }),
  };
}

/** The benchmarks and arms of a run in the order of their first sample the analysis keeps. */
export interface ReportOrder {
  benchmarks: string[];
  arms: string[];
}

/** A line no later step drops: applyProbes may drop a probe arm's placeholder (status ok, extra.probe_pending). */
export function settledSample(raw: unknown): boolean {
  const r = raw as { status?: unknown; extra?: { probe_pending?: unknown } | null } | null;
  return !(r?.status === 'ok' && r.extra?.probe_pending === true);
}

/**
 * The order of benchmarks and arms known from the index alone: by their first settled line (their
 * first line when none is). It is the report's order unless a benchmark's or an arm's first samples
 * are probe placeholders that the probe drops; ReportAssembler.order() says the order it found.
 */
export function provisionalOrder(index: SampleIndex): ReportOrder {
  const benchmarkLine = (k: string): number => index.firstSettledLine.benchmark.get(k) ?? index.firstLine.benchmark.get(k)!;
  const armLine = (k: string): number => index.firstSettledLine.arm.get(k) ?? index.firstLine.arm.get(k)!;
  return {
    benchmarks: index.benchmarks.map((b) => b.benchmark).sort((x, y) => benchmarkLine(x) - benchmarkLine(y)),
    arms: [...index.firstLine.arm.keys()].sort((x, y) => armLine(x) - armLine(y)),
  };
}

export function sameOrder(a: ReportOrder, b: ReportOrder): boolean {
  const same = (x: string[], y: string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.benchmarks, b.benchmarks) && same(a.arms, b.arms);
}

/** One benchmark's samples as the analysis reads them (slim, probes applied), with the line of each in samples.jsonl. */
export interface BenchmarkSamples {
  benchmark: string;
  samples: Sample[];
  lines: number[];
  probes: ProbeRun[];
  /** The line of each probe run's first placeholder (the probes' order in a pass over the run). */
  probeLines: number[];
}

export function readBenchmark(file: string, entry: BenchmarkLines, formats: Map<string, BenchmarkSpec['format']>): BenchmarkSamples {
  const lines: number[] = [];
  const read = slimSamples((visit) =>
    readBenchmarkSamples(file, entry, (s, line) => {
      lines.push(line);
      visit(s);
    }),
  );
  // Probe arms' placeholder scores become their cross-validated held-out predictions first.
  const probed = applyProbes(read, formats);
  const probeLines = probed.probes.map((p) => {
    const i = read.findIndex((s) => s.arm === p.arm && s.status === 'ok' && s.extra.probe_pending === true);
    return lines[i]!;
  });
  return { benchmark: entry.benchmark, samples: probed.samples, lines: probed.sources.map((i) => lines[i]!), probes: probed.probes, probeLines };
}

/** What the report keeps of one benchmark once its samples are dropped. */
export interface BenchmarkAnalysis {
  benchmark: string;
  /** The line of its first sample (undefined: none is left). */
  firstLine: number | undefined;
  /** arm → the line of its first sample here. */
  armLines: Map<string, number>;
  /** failure code → the line of its first sample here. */
  failureLines: Map<string, number>;
  summary: RunSummary;
  comparisons: ComparisonView[];
  agreement: AgreementView[];
  pairModes: PairModeRow[];
  failed: Array<{ line: number; row: FailedRow }>;
  probes: Array<{ line: number; run: ProbeRun; table: ProbeTable }>;
}

/**
 * Analyses one benchmark's samples; `onItemRows` receives every item row of each arm pair (the
 * rows of tables/items.csv) before all but the listed ones are dropped.
 */
export function analyseBenchmark(
  read: BenchmarkSamples,
  context: ReportContext,
  onItemRows?: (comparison: ComparisonWithTest, rows: ItemRow[]) => void,
): BenchmarkAnalysis {
  const { samples, lines } = read;
  const summary = summarise(context.runId, samples, context.formats, context.baseline, bootstrapOptions(context));
  const tables = probeTables(read.probes, samples, context.formats);
  const armLines = new Map<string, number>();
  const failureLines = new Map<string, number>();
  const failed: BenchmarkAnalysis['failed'] = [];
  for (const [i, s] of samples.entries()) {
    if (!armLines.has(s.arm)) armLines.set(s.arm, lines[i]!);
    if (s.error && !failureLines.has(s.error.code)) failureLines.set(s.error.code, lines[i]!);
    if (s.status === 'failed') failed.push({ line: lines[i]!, row: failedRow(s) });
  }
  return {
    benchmark: read.benchmark,
    firstLine: lines[0],
    armLines,
    failureLines,
    summary,
    comparisons: summary.comparisons.map((c) => {
      const rows = comparisonRows(samples, c);
      onItemRows?.(c, rows);
      return { ...c, listing: itemListing(rows) };
    }),
    agreement: agreementViews(samples, context.formats, context.baseline),
    pairModes: pairModeRows(samples, context.formats),
    failed,
    probes: read.probes.map((run, k) => ({ line: read.probeLines[k]!, run, table: tables[k]! })),
  };
}

/** Keys ordered by the smallest line any of the maps gives them. */
function byFirstLine(maps: Iterable<Map<string, number>>): string[] {
  const first = new Map<string, number>();
  for (const m of maps) for (const [k, line] of m) if (!(first.get(k)! <= line)) first.set(k, line);
  return [...first.keys()].sort((x, y) => first.get(x)! - first.get(y)!);
}

/** Puts the benchmarks' analyses together into the run's report model. */
export class ReportAssembler {
  private readonly parts: BenchmarkAnalysis[] = [];

  constructor(private readonly context: ReportContext) {}

  add(part: BenchmarkAnalysis): void {
    if (part.firstLine !== undefined) this.parts.push(part);
  }

  /** The order of benchmarks and arms a pass over every sample finds. */
  order(): ReportOrder {
    const parts = this.sorted();
    return { benchmarks: parts.map((p) => p.benchmark), arms: byFirstLine(parts.map((p) => p.armLines)) };
  }

  private sorted(): BenchmarkAnalysis[] {
    return [...this.parts].sort((a, b) => a.firstLine! - b.firstLine!);
  }

  model(options: { wallMs?: number } = {}): ReportModel {
    const c = this.context;
    const parts = this.sorted();
    const empty = summarise(c.runId, [], c.formats, c.baseline, bootstrapOptions(c));
    const summary =
      parts.length === 0
        ? empty
        : mergeSummaries(
            c.runId,
            parts.map((p) => p.summary),
            byFirstLine(parts.map((p) => p.failureLines)),
            empty.bootstrap,
          );
    const probes = parts.flatMap((p) => p.probes).sort((a, b) => a.line - b.line);
    return assembleReportModel({
      summary,
      parts: {
        comparisons: parts.flatMap((p) => p.comparisons),
        agreement: parts.flatMap((p) => p.agreement),
        pairModes: parts.flatMap((p) => p.pairModes),
        failed: parts
          .flatMap((p) => p.failed)
          .sort((a, b) => a.line - b.line)
          .map((f) => f.row),
      },
      manifest: c.manifest,
      baseline: c.baseline,
      ...(options.wallMs === undefined ? {} : { wallMs: options.wallMs }),
      probe: { tables: probes.map((p) => p.table), runs: probes.map((p) => p.run) },
    });
  }
}
