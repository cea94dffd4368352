import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { BenchmarkMetrics, LoadFailure } from '../benchmarks/benchmark-family.js';
import { allSubsetNames, findSubset, resolveConvention } from '../benchmarks/registry.js';
import { BenchmarkSpecSchema } from '../config/experiment.js';
import { PerceiveError, errorMessage } from '../core/errors.js';
import type { ScoreMatrix } from '../core/item.js';

/**
 * `perceive metrics`: the authors' exact metrics for scores computed anywhere. Registry-driven: any
 * family's subsets work with no edit here.
 */

const ScoreLineSchema = z.strictObject({
  id: z.union([z.string().min(1), z.number().int().nonnegative()]),
  scores: z.array(z.array(z.number()).min(1)).min(1),
});

export interface ExternalMetricsInput {
  benchmark: string;
  annotations: string;
  scores: string;
  convention?: string;
  /** Where image paths resolve (only checked to stay inside; images are not read). Default: the annotation file's folder. */
  dataDir?: string;
  /** Extra files by role (e.g. hard positives `swapped`); default: the family's layout next to the annotations. */
  extraFiles?: Record<string, string>;
}

export interface ExternalMetricsResult {
  benchmark: string;
  format: string;
  convention: string;
  source: string;
  annotations: string;
  scoresFile: string;
  items: number;
  scored: number;
  metrics: BenchmarkMetrics;
  /** Annotation rows that did not become items (file, row, field). */
  loadFailures: LoadFailure[];
  /** SCORES.jsonl lines that were not used (line number and reason). */
  scoreProblems: Array<{ line: number; reason: string }>;
}

export async function externalMetrics(input: ExternalMetricsInput): Promise<ExternalMetricsResult> {
  const found = findSubset(input.benchmark);
  if (found === undefined) {
    throw new PerceiveError('unknown-benchmark', `no benchmark subset named ${JSON.stringify(input.benchmark)}`, {
      hint: `use one of: ${allSubsetNames().join(', ')}`,
    });
  }
  const { family, subset } = found;
  const convention = resolveConvention(family, input.convention);
  const annotations = path.resolve(input.annotations);
  const spec = BenchmarkSpecSchema.parse({
    name: input.benchmark,
    format: family.format,
    annotations,
    data_dir: path.resolve(input.dataDir ?? path.dirname(annotations)),
    subset: subset.subset,
    convention: convention.name,
    extra_files: Object.fromEntries(Object.entries(input.extraFiles ?? {}).map(([k, v]) => [k, path.resolve(v)])),
  });
  const { items, failures } = await family.load(spec, { checkImages: false });

  let text: string;
  try {
    text = await readFile(input.scores, 'utf8');
  } catch (error) {
    throw new PerceiveError('scores-unreadable', `cannot read scores file ${input.scores}: ${errorMessage(error)}`, {
      hint: 'One JSON object per line: {"id": "<row index>", "scores": [[...]]} (scores[image][option]).',
    });
  }
  const byExternal = new Map(items.map((i) => [family.externalId(i), i] as const));
  const failedRows = new Set(failures.map((f) => String(f.source.row)));
  const scores = new Map<string, ScoreMatrix>();
  const problems: Array<{ line: number; reason: string }> = [];
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const raw = (lines[li] ?? '').trim();
    if (raw === '') continue;
    const line = li + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      problems.push({ line, reason: `not JSON: ${errorMessage(error)}` });
      continue;
    }
    const r = ScoreLineSchema.safeParse(parsed);
    if (!r.success) {
      problems.push({
        line,
        reason: r.error.issues.map((i) => `field ${i.path.length === 0 ? '(line)' : i.path.map(String).join('.')}: ${i.message}`).join('; '),
      });
      continue;
    }
    const id = String(r.data.id);
    const item = byExternal.get(id);
    if (item === undefined) {
      problems.push({
        line,
        reason: failedRows.has(id) ? `id ${id}: that annotation row failed to load (see load failures)` : `id ${id}: no such row in ${annotations}`,
      });
      continue;
    }
    if (scores.has(item.id)) {
      problems.push({ line, reason: `id ${id}: duplicate; the first line with this id is used` });
      continue;
    }
    let matrix: ScoreMatrix | string = r.data.scores;
    if (family.fromExternalScores !== undefined) matrix = family.fromExternalScores(item, r.data.scores);
    else if (r.data.scores.length !== item.images.length || r.data.scores.some((row) => row.length !== item.options.length)) {
      matrix = `expected ${item.images.length} image row(s) of ${item.options.length} option scores`;
    }
    if (typeof matrix === 'string') {
      problems.push({ line, reason: `id ${id}: ${matrix}` });
      continue;
    }
    scores.set(item.id, matrix);
  }
  const metrics = family.metrics(items, scores);
  return {
    benchmark: input.benchmark,
    format: family.format,
    convention: metrics.convention,
    source: metrics.source,
    annotations,
    scoresFile: path.resolve(input.scores),
    items: items.length,
    scored: scores.size,
    metrics,
    loadFailures: failures,
    scoreProblems: problems,
  };
}

const pct = (v: number | null): string => (v === null ? '–' : `${(100 * v).toFixed(2)}`);

/** Prints every figure of the details, one per line, as `path: value`. */
function flatten(prefix: string, value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const label =
        v !== null && typeof v === 'object'
          ? String((v as Record<string, unknown>).preposition ?? (v as Record<string, unknown>).label ?? (v as Record<string, unknown>).type ?? (v as Record<string, unknown>).category ?? i)
          : String(i);
      flatten(`${prefix}[${label}]`, v, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(prefix === '' ? k : `${prefix}.${k}`, v, out);
  } else {
    out.push(`  ${prefix}: ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(6) : String(value)}`);
  }
}

export function formatExternalMetrics(r: ExternalMetricsResult): string {
  const lines = [
    `${r.benchmark} (${r.format}), convention ${r.convention}`,
    `ported from ${r.source}`,
    `items ${r.items}, scored ${r.scored}, missing ${r.metrics.nMissing}, annotation rows failed ${r.loadFailures.length}, score lines unused ${r.scoreProblems.length}`,
  ];
  for (const h of r.metrics.headline) {
    lines.push(`${h.convention} ${h.name}: ${pct(h.value)}%  (${h.correct} / ${Number.isInteger(h.total) ? h.total : h.total.toFixed(2)})`);
  }
  const detail: string[] = [];
  flatten('', r.metrics.details, detail);
  if (detail.length > 0) lines.push('details:', ...detail);
  for (const f of r.loadFailures.slice(0, 20)) lines.push(`load failure: ${f.reason}`);
  if (r.loadFailures.length > 20) lines.push(`… ${r.loadFailures.length - 20} more load failures (--json lists all)`);
  for (const p of r.scoreProblems.slice(0, 20)) lines.push(`${r.scoresFile} line ${p.line}: ${p.reason}`);
  if (r.scoreProblems.length > 20) lines.push(`… ${r.scoreProblems.length - 20} more score problems (--json lists all)`);
  return `${lines.join('\n')}\n`;
}

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description("compute a benchmark's exact metrics (the authors' code, ported) for scores computed anywhere")
    .requiredOption('--benchmark <subset>', `benchmark subset: ${allSubsetNames().join(', ')}`)
    .requiredOption('--annotations <file>', "the authors' annotation file for that subset")
    .requiredOption('--scores <file>', 'SCORES.jsonl: one {"id": "<0-based row index (MMVP: pair index)>", "scores": [[...]]} per line, scores[image][option] in the order the authors\' dataset class presents the options')
    .option('--convention <name>', 'evaluation code to reproduce (default: the family\'s first, e.g. whatsup_vlms)')
    .option('--data-dir <dir>', 'folder image paths resolve against (images are not read; default: the annotation file\'s folder)')
    .option('--extra <role=file...>', 'further files by role, e.g. swapped=swapped_data/vl_checklist_relations.json')
    .option('--json', 'print the full result as JSON')
    .action(async (opts: { benchmark: string; annotations: string; scores: string; convention?: string; dataDir?: string; extra?: string[]; json?: boolean }) => {
      const extraFiles: Record<string, string> = {};
      for (const e of opts.extra ?? []) {
        const at = e.indexOf('=');
        if (at <= 0) throw new PerceiveError('bad-option', `--extra ${JSON.stringify(e)}: expected role=file`);
        extraFiles[e.slice(0, at)] = e.slice(at + 1);
      }
      const result = await externalMetrics({
        benchmark: opts.benchmark,
        annotations: opts.annotations,
        scores: opts.scores,
        ...(opts.convention === undefined ? {} : { convention: opts.convention }),
        ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
        extraFiles,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatExternalMetrics(result));
    });
}
