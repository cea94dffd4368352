import { z } from 'zod';
import fs from 'node:fs';
import { applyProbes } from '../analysis/probe.js';
import { probeTables } from '../analysis/probe-table.js';
import { readReportSamples } from '../analysis/report-samples.js';
import { type RunSummary, summarise } from '../analysis/summary.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { PerceiveError } from '../core/errors.js';
import type { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import { renderCsvTables } from './csv-tables.js';
import { EXPLORER_DATA_DIR, ExplorerDataBuilder } from './explorer-data.js';
import { renderHtmlReport } from './html-report.js';
import { renderMarkdownReport } from './markdown-report.js';
import { buildReportModel, type ReportManifest, type ReportModel } from './report-model.js';
import { type ThumbnailTally, writeThumbnails } from './thumbnails.js';
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

export interface WrittenReport {
  summary: RunSummary;
  reportFile: string;
  htmlFile: string;
  tables: string[];
  /** The explorer's items and thumbnails (written now, already present, unreadable images). */
  explorer: { items: number; thumbnails: Omit<ThumbnailTally, 'available'> };
}

/**
 * Writes summary.json, report.md, report.html and tables/*.csv of a run from its manifest and
 * samples only, so a report can be rebuilt at any time (`perceive report RUN_DIR`).
 */
export async function writeRunReport(run: RunDirectory, options: { wallMs?: number } = {}): Promise<WrittenReport> {
  // The explorer collects every item; its thumbnails are written on sharp's threads (bounded) while
  // the main thread runs the analysis, and only the missing ones (thumbs/ is kept between reports).
  const explorer = new ExplorerDataBuilder();
  let thumbnails: Promise<ThumbnailTally> = Promise.resolve({ written: 0, present: 0, unreadable: 0, available: new Set() });
  const model = loadReportModel(run, {
    ...options,
    beforeAnalysis: (samples) => {
      for (const s of samples) explorer.add(s);
      thumbnails = writeThumbnails(run.dir, explorer.images());
    },
  });
  run.writeJson('summary.json', { ...model.summary, ...(options.wallMs === undefined ? {} : { wall_ms: options.wallMs }) });
  run.writeFileAtomic('report.md', renderMarkdownReport(model));
  const pairs = [...new Map(model.comparisons.map((c) => [`${c.arm}\u0000${c.baseline}`, { arm: c.arm, baseline: c.baseline }])).values()];
  const tally = await thumbnails;
  const data = explorer.build(pairs, tally.available);
  for (const [k, chunk] of data.chunks.entries()) run.writeFileAtomic(`${EXPLORER_DATA_DIR}/items-${k}.js`, chunk);
  for (const [a, arm] of data.arms.entries()) run.writeFileAtomic(`${EXPLORER_DATA_DIR}/arm-${a}.js`, arm);
  run.writeFileAtomic(`${EXPLORER_DATA_DIR}/index.js`, data.index);
  removeStaleFiles(run.file(EXPLORER_DATA_DIR), { items: data.chunks.length, arm: data.arms.length });
  run.writeFileAtomic('report.html', await renderHtmlReport(model, { items: data.items }));
  const tables = renderCsvTables(model);
  for (const [name, text] of Object.entries(tables)) run.writeFileAtomic(`tables/${name}`, text);
  return {
    summary: model.summary,
    reportFile: run.file('report.md'),
    htmlFile: run.file('report.html'),
    tables: Object.keys(tables).map((t) => run.file(`tables/${t}`)),
    explorer: { items: data.items, thumbnails: { written: tally.written, present: tally.present, unreadable: tally.unreadable } },
  };
}

/** Data files of an earlier, larger report (items-<k>.js, arm-<a>.js beyond this report's count). */
function removeStaleFiles(dir: string, counts: { items: number; arm: number }): void {
  for (const f of fs.readdirSync(dir)) {
    const k = /^(items|arm)-(\d+)\.js$/.exec(f);
    if (k && Number(k[2]) >= counts[k[1] as 'items' | 'arm']) fs.rmSync(`${dir}/${f}`, { force: true });
  }
}
