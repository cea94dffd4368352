import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { BenchmarkMetrics, CompanionFile, LoadFailure } from '../benchmarks/benchmark-family.js';
import { nonFinitePaths, parsePythonJson } from '../benchmarks/shared/python-json.js';
import { allSubsetNames, findSubset, resolveConvention } from '../benchmarks/registry.js';
import { BenchmarkSpecSchema } from '../config/experiment.js';
import { PerceiveError, errorMessage } from '../core/errors.js';
import type { ScoreMatrix } from '../core/item.js';
import { describeZodIssues } from '../core/zod-issues.js';

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
  /** Files beside the annotations only some figures need (e.g. Questions-llava.csv), as read. */
  companions: CompanionFile[];
  /** Every item: its SCORES.jsonl id, and the prediction and correctness by the convention's rule, or why it failed. */
  perItem: Array<{ id: string; prediction: number | null; correct: boolean | null; failed: string | null }>;
  /** True when every annotation row loaded and every item has a usable score line (exit code 0 without --allow-missing). */
  complete: boolean;
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
  const { items, failures, companions } = await family.load(spec, { checkImages: false });

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
  const itemFailed = new Map<string, string>();
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const raw = (lines[li] ?? '').trim();
    if (raw === '') continue;
    const line = li + 1;
    let parsed: unknown;
    try {
      parsed = parsePythonJson(raw); // json.dumps writes NaN / Infinity / -Infinity by default
    } catch (error) {
      problems.push({ line, reason: `not JSON: ${errorMessage(error)}` });
      continue;
    }
    const nonFinite = nonFinitePaths((parsed as { scores?: unknown } | null)?.scores, 'scores');
    if (nonFinite.length > 0) {
      const id = String((parsed as { id?: unknown }).id);
      const item = byExternal.get(id);
      const reason = `id ${id}: ${nonFinite.join(', ')} (Python's json.dumps writes NaN/Infinity for a non-finite score)`;
      problems.push({ line, reason });
      if (item !== undefined && !scores.has(item.id) && !itemFailed.has(item.id)) itemFailed.set(item.id, `${input.scores} line ${line}: ${reason}`);
      continue;
    }
    const r = ScoreLineSchema.safeParse(parsed);
    if (!r.success) {
      problems.push({
        line,
        reason: describeZodIssues(r.error, { root: '(line)' }),
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
  const loadFailed = new Map(failures.map((f) => [String(f.source.row), f.reason] as const));
  const perItem: ExternalMetricsResult['perItem'] = items.map((item) => {
    const id = family.externalId(item);
    const s = scores.get(item.id);
    if (s === undefined) return { id, prediction: null, correct: null, failed: itemFailed.get(item.id) ?? `no score line with id ${id}` };
    const j = family.judge(item, s);
    return { id, prediction: j.prediction, correct: j.correct, failed: null };
  });
  for (const [row, reason] of loadFailed) perItem.push({ id: row, prediction: null, correct: null, failed: reason });
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
    companions: companions ?? [],
    perItem,
    complete: failures.length === 0 && problems.length === 0 && scores.size === items.length,
  };
}

const pct = (v: number | null): string => (v === null ? '–' : `${(100 * v).toFixed(2)}`);

/** Prints every figure of the details, one per line, as `path: value`. */
function flatten(prefix: string, value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const label =
        v !== null && typeof v === 'object'
          ? String(
              (v as Record<string, unknown>).preposition ??
                (v as Record<string, unknown>).label ??
                (v as Record<string, unknown>).type ??
                (v as Record<string, unknown>).category ??
                i,
            )
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
  for (const c of r.companions) {
    if (c.status !== 'read') lines.push(`${c.role} file ${c.file}: ${c.status}${c.reason === null ? '' : ` (${c.reason})`}; it adds ${c.neededBy}`);
  }
  lines.push(
    r.complete
      ? 'complete: every row loaded and every item scored'
      : 'INCOMPLETE: rows failed to load or items have no usable score line (exit code 1 unless --allow-missing)',
  );
  return `${lines.join('\n')}\n`;
}

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description("compute a benchmark's exact metrics (the authors' code, ported) for scores computed anywhere")
    .requiredOption('--benchmark <subset>', `benchmark subset: ${allSubsetNames().join(', ')}`)
    .requiredOption('--annotations <file>', "the authors' annotation file for that subset")
    .requiredOption(
      '--scores <file>',
      'SCORES.jsonl: one {"id": ..., "scores": [[...]]} per line, scores[image][option] in the order the authors\' dataset class presents the options. ' +
        'id = the 0-based data row of the annotation file (the header is not a row); MMVP: the question row (row r is image "MMVP Images/<r+1>.jpg", by position, not the Index column); ' +
        'mmvp_vlm / mmvp_clip: the 0-based pair (rows 2p, 2p+1; images <qid>.jpg of each row), scores[image][statement]. NaN/Infinity (json.dumps) fail that item with the reason',
    )
    .option('--convention <name>', "evaluation code to reproduce (default: the family's first, e.g. whatsup_vlms)")
    .option('--data-dir <dir>', "folder image paths resolve against (images are not read; default: the annotation file's folder)")
    .option('--extra <role=file...>', 'further files by role, e.g. swapped=swapped_data/vl_checklist_relations.json')
    .option('--json', "print the full result as JSON, with every item's prediction and correctness (perItem)")
    .option('--allow-missing', 'exit 0 even when rows failed to load or items have no usable score line')
    .action(
      async (opts: {
        benchmark: string;
        annotations: string;
        scores: string;
        convention?: string;
        dataDir?: string;
        extra?: string[];
        json?: boolean;
        allowMissing?: boolean;
      }) => {
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
        if (!result.complete && opts.allowMissing !== true) process.exitCode = 1;
      },
    );
}
