import { z } from 'zod';
import { type RunSummary, summarise } from '../analysis/summary.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { PerceiveError } from '../errors.js';
import type { RunDirectory } from '../store/run-directory.js';
import { type ReportInput, renderMarkdownReport } from './markdown-report.js';

const ManifestConfigSchema = z.object({
  run_id: z.string(),
  config: z.object({
    baseline: z.string(),
    benchmarks: z.array(z.object({ name: z.string(), format: z.string() })),
  }),
});

/**
 * Writes summary.json and report.md of a run from its manifest and samples.jsonl only
 * (never a model), so a report can be rebuilt at any time.
 */
export function writeRunReport(run: RunDirectory, options: { wallMs?: number } = {}): { summary: RunSummary; reportFile: string } {
  const raw = run.readJson('manifest.json');
  const parsed = ManifestConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PerceiveError('bad-manifest', `${run.file('manifest.json')}: field ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  }
  const formats = new Map(parsed.data.config.benchmarks.map((b) => [b.name, b.format as BenchmarkSpec['format']] as const));
  const samples = run.readSamples();
  const summary = summarise(parsed.data.run_id, samples, formats, parsed.data.config.baseline);
  const wallMs = options.wallMs;
  run.writeJson('summary.json', { ...summary, ...(wallMs === undefined ? {} : { wall_ms: wallMs }) });
  const md = renderMarkdownReport({ summary, samples, manifest: raw as ReportInput['manifest'], ...(wallMs === undefined ? {} : { wallMs }) });
  run.writeFileAtomic('report.md', md);
  return { summary, reportFile: run.file('report.md') };
}
