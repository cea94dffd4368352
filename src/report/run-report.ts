import { z } from 'zod';
import { compareItems } from '../analysis/item-comparison.js';
import { applyProbes } from '../analysis/probe.js';
import { probeTables } from '../analysis/probe-table.js';
import { readReportSamples } from '../analysis/report-samples.js';
import { type RunSummary, summarise } from '../analysis/summary.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { PerceiveError } from '../core/errors.js';
import type { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import { renderCsvTables } from './csv-tables.js';
import { prefetchThumbnails, renderHtmlReport, WIN_ROWS } from './html-report.js';
import { renderMarkdownReport } from './markdown-report.js';
import { buildReportModel, type ReportManifest, type ReportModel } from './report-model.js';
import { describeZodIssues } from '../core/zod-issues.js';

const ManifestConfigSchema = z.object({
  run_id: z.string(),
  config: z.object({
    baseline: z.string(),
    benchmarks: z.array(z.object({ name: z.string(), format: z.string() })),
  }),
});

/** Reads a run directory (manifest.json + samples.jsonl only; never a model) into the report model. */
export function loadReportModel(
  run: RunDirectory,
  options: { wallMs?: number; iterations?: number; seed?: number; beforeAnalysis?: (samples: Sample[], baseline: string) => void } = {},
): ReportModel {
  const raw = run.readJson('manifest.json');
  const parsed = ManifestConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PerceiveError('bad-manifest', `${run.file('manifest.json')}: ${describeZodIssues(parsed.error, { limit: 1 })}`);
  }
  const formats = new Map(parsed.data.config.benchmarks.map((b) => [b.name, b.format as BenchmarkSpec['format']] as const));
  // Probe arms' placeholder scores become their cross-validated held-out predictions first.
  const probed = applyProbes(readReportSamples(run), formats);
  const samples = probed.samples;
  options.beforeAnalysis?.(samples, parsed.data.config.baseline);
  const summary = summarise(parsed.data.run_id, samples, formats, parsed.data.config.baseline, {
    ...(options.iterations === undefined ? {} : { iterations: options.iterations }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  return buildReportModel({
    summary,
    samples,
    manifest: raw as ReportManifest,
    baseline: parsed.data.config.baseline,
    ...(options.wallMs === undefined ? {} : { wallMs: options.wallMs }),
    probe: { tables: probeTables(probed.probes, samples, formats), runs: probed.probes },
  });
}

/** The images of the rows the HTML's win tables show (each comparison's first `WIN_ROWS` wins either way). */
function prefetchWinThumbnails(samples: Sample[], baseline: string): void {
  const images = new Map<string, string[]>();
  for (const s of samples)
    images.set(
      `${s.benchmark}\u0000${s.item}`,
      s.images.map((i) => i.path),
    );
  const files = new Set<string>();
  for (const c of compareItems(samples, baseline)) {
    for (const id of [...c.armWins.slice(0, WIN_ROWS), ...c.baselineWins.slice(0, WIN_ROWS)])
      for (const f of images.get(`${c.benchmark}\u0000${id}`) ?? []) files.add(f);
  }
  prefetchThumbnails(files);
}

export interface WrittenReport {
  summary: RunSummary;
  reportFile: string;
  htmlFile: string;
  tables: string[];
}

/**
 * Writes summary.json, report.md, report.html and tables/*.csv of a run from its manifest and
 * samples only, so a report can be rebuilt at any time (`perceive report RUN_DIR`).
 */
export async function writeRunReport(run: RunDirectory, options: { wallMs?: number } = {}): Promise<WrittenReport> {
  // The win tables' thumbnails are made on sharp's threads while the main thread runs the analysis.
  const model = loadReportModel(run, { ...options, beforeAnalysis: prefetchWinThumbnails });
  run.writeJson('summary.json', { ...model.summary, ...(options.wallMs === undefined ? {} : { wall_ms: options.wallMs }) });
  run.writeFileAtomic('report.md', renderMarkdownReport(model));
  run.writeFileAtomic('report.html', await renderHtmlReport(model));
  const tables = renderCsvTables(model);
  for (const [name, text] of Object.entries(tables)) run.writeFileAtomic(`tables/${name}`, text);
  return {
    summary: model.summary,
    reportFile: run.file('report.md'),
    htmlFile: run.file('report.html'),
    tables: Object.keys(tables).map((t) => run.file(`tables/${t}`)),
  };
}
