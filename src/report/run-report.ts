import { z } from 'zod';
import fs from 'node:fs';
import type { RunSummary } from '../analysis/summary.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { PerceiveError } from '../core/errors.js';
import { describeZodIssues } from '../core/zod-issues.js';
import { AtomicFileWriter } from '../store/atomic-file-writer.js';
import type { RunDirectory } from '../store/run-directory.js';
import { indexSamples, type SampleIndex } from '../store/sample-index.js';
import { csvLines, FAILED_CSV_HEADER, failedCsvRows, ITEMS_CSV_HEADER, itemsCsvRows, renderCsvTables } from './csv-tables.js';
import { EXPLORER_DATA_DIR, ExplorerDataWriter } from './explorer-data.js';
import { renderHtmlReport } from './html-report.js';
import { renderMarkdownReport } from './markdown-report.js';
import type { ReportManifest, ReportModel } from './report-model.js';
import {
  analyseBenchmark,
  provisionalOrder,
  type ReportContext,
  type ReportOrder,
  ReportAssembler,
  readBenchmark,
  sameOrder,
  settledSample,
} from './report-stream.js';
import { type ImageRef, type ThumbnailTally, thumbnailName, writeThumbnails } from './thumbnails.js';

const ManifestConfigSchema = z.object({
  run_id: z.string(),
  config: z.object({
    baseline: z.string(),
    benchmarks: z.array(z.object({ name: z.string(), format: z.string() })),
  }),
});

/** The run's manifest as the report reads it, and what every benchmark's analysis shares. */
function reportContext(run: RunDirectory, options: { iterations?: number; seed?: number }): ReportContext {
  const raw = run.readJson('manifest.json');
  const parsed = ManifestConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PerceiveError('bad-manifest', `${run.file('manifest.json')}: ${describeZodIssues(parsed.error, { limit: 1 })}`);
  }
  return {
    runId: parsed.data.run_id,
    manifest: raw as ReportManifest,
    formats: new Map(parsed.data.config.benchmarks.map((b) => [b.name, b.format as BenchmarkSpec['format']] as const)),
    baseline: parsed.data.config.baseline,
    ...(options.iterations === undefined ? {} : { iterations: options.iterations }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };
}

/**
 * Reads a run directory (manifest.json + samples.jsonl only; never a model) into the report model,
 * one benchmark's samples at a time (report-stream.ts).
 */
export function loadReportModel(run: RunDirectory, options: { wallMs?: number; iterations?: number; seed?: number } = {}): ReportModel {
  const context = reportContext(run, options);
  const file = run.file('samples.jsonl');
  const index = indexSamples(file, settledSample);
  const assembler = new ReportAssembler(context);
  for (const entry of index.benchmarks) assembler.add(analyseBenchmark(readBenchmark(file, entry, context.formats), context));
  return assembler.model(options.wallMs === undefined ? {} : { wallMs: options.wallMs });
}

export interface WrittenReport {
  summary: RunSummary;
  reportFile: string;
  htmlFile: string;
  tables: string[];
  /** The explorer's items and thumbnails (written now, already present, unreadable images). */
  explorer: { items: number; thumbnails: Omit<ThumbnailTally, 'available'> };
}

/** One pass over the benchmarks in `order`: tables/items.csv and the explorer's detail files written as it goes. */
async function reportPass(run: RunDirectory, context: ReportContext, index: SampleIndex, order: ReportOrder) {
  const file = run.file('samples.jsonl');
  const entries = new Map(index.benchmarks.map((b) => [b.benchmark, b]));
  const items = new AtomicFileWriter(run.file('tables/items.csv'));
  items.write(csvLines([ITEMS_CSV_HEADER]));
  const explorer = new ExplorerDataWriter(order.arms, (k, text) => run.writeFileAtomic(`${EXPLORER_DATA_DIR}/items-${k}.js`, text));
  const assembler = new ReportAssembler(context);
  // Thumbnails of each item's images (thumbs/ is kept between reports: only the missing ones are
  // written), on sharp's threads (bounded) while the main thread analyses the benchmark.
  const seen = new Set<string>();
  const available = new Set<string>();
  const tally = { written: 0, present: 0, unreadable: 0 };
  try {
    for (const benchmark of order.benchmarks) {
      const read = readBenchmark(file, entries.get(benchmark)!, context.formats);
      const images: ImageRef[] = [];
      const itemsSeen = new Set<string>();
      for (const s of read.samples) {
        if (itemsSeen.has(s.item)) continue;
        itemsSeen.add(s.item);
        for (const image of s.images) {
          const name = thumbnailName(image);
          if (!seen.has(name)) {
            seen.add(name);
            images.push(image);
          }
        }
      }
      const thumbnails = writeThumbnails(run.dir, images);
      const analysis = analyseBenchmark(read, context, (c, rows) => items.write(csvLines(itemsCsvRows(c, rows))));
      const t = await thumbnails;
      tally.written += t.written;
      tally.present += t.present;
      tally.unreadable += t.unreadable;
      for (const name of t.available) available.add(name);
      explorer.addBenchmark(benchmark, read.samples, available);
      assembler.add(analysis);
    }
  } catch (error) {
    items.abort();
    throw error;
  }
  return { items, explorer, assembler, tally };
}

/**
 * Writes summary.json, report.md, report.html, tables/*.csv and the explorer's data of a run from
 * its manifest and samples only, so a report can be rebuilt at any time (`perceive report RUN_DIR`),
 * holding one benchmark's samples at a time.
 */
export async function writeRunReport(run: RunDirectory, options: { wallMs?: number } = {}): Promise<WrittenReport> {
  const context = reportContext(run, {});
  const index = indexSamples(run.file('samples.jsonl'), settledSample);
  let order = provisionalOrder(index);
  let pass = await reportPass(run, context, index, order);
  // The order known from the index is the report's unless a probe dropped the first samples of a
  // benchmark or an arm: then once more in the order the pass found (the same report as in one pass).
  if (!sameOrder(pass.assembler.order(), order)) {
    pass.items.abort();
    order = pass.assembler.order();
    pass = await reportPass(run, context, index, order);
  }
  const model = pass.assembler.model(options.wallMs === undefined ? {} : { wallMs: options.wallMs });
  run.writeJson('summary.json', { ...model.summary, ...(options.wallMs === undefined ? {} : { wall_ms: options.wallMs }) });
  run.writeFileAtomic('report.md', renderMarkdownReport(model));
  const pairs = [...new Map(model.comparisons.map((c) => [`${c.arm}\u0000${c.baseline}`, { arm: c.arm, baseline: c.baseline }])).values()];
  const data = pass.explorer.finish(pairs);
  for (const [a, arm] of data.arms.entries()) run.writeFileAtomic(`${EXPLORER_DATA_DIR}/arm-${a}.js`, arm);
  run.writeFileAtomic(`${EXPLORER_DATA_DIR}/index.js`, data.index);
  removeStaleFiles(run.file(EXPLORER_DATA_DIR), { items: data.chunks, arm: data.arms.length });
  run.writeFileAtomic('report.html', await renderHtmlReport(model, { items: data.items }));
  const tables = renderCsvTables(model);
  for (const [name, text] of Object.entries(tables)) run.writeFileAtomic(`tables/${name}`, text);
  pass.items.commit();
  const failed = new AtomicFileWriter(run.file('tables/failed.csv'));
  failed.write(csvLines([FAILED_CSV_HEADER]));
  for (let k = 0; k < model.failed.length; k += 4096) failed.write(csvLines(failedCsvRows(model.failed.slice(k, k + 4096))));
  failed.commit();
  const names = [...Object.keys(tables), 'items.csv', 'failed.csv'];
  return {
    summary: model.summary,
    reportFile: run.file('report.md'),
    htmlFile: run.file('report.html'),
    tables: names.map((t) => run.file(`tables/${t}`)),
    explorer: { items: data.items, thumbnails: pass.tally },
  };
}

/** Data files of an earlier, larger report (items-<k>.js, arm-<a>.js beyond this report's count). */
function removeStaleFiles(dir: string, counts: { items: number; arm: number }): void {
  for (const f of fs.readdirSync(dir)) {
    const k = /^(items|arm)-(\d+)\.js$/.exec(f);
    if (k && Number(k[2]) >= counts[k[1] as 'items' | 'arm']) fs.rmSync(`${dir}/${f}`, { force: true });
  }
}
