import { headlineCsv } from './headline-table.js';
import { probeCsvTables } from './probe-report.js';
import type { ComparisonWithTest } from '../analysis/summary.js';
import type { FailedRow, ItemRow, ReportModel } from './report-model.js';

/** One CSV per table (RFC 4180 quoting); full-precision numbers, proportions in [0, 1]. */
function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv(header: string[], rows: unknown[][]): string {
  return `${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

/** CSV lines of rows (each ending in a newline), for a table written a part at a time. */
export function csvLines(rows: unknown[][]): string {
  let out = '';
  for (const r of rows) out += `${r.map(csvCell).join(',')}\n`;
  return out;
}

/** tables/items.csv: one row per item per arm pair (the pair's 2x2 outcome and both arms' picks and scores). */
export const ITEMS_CSV_HEADER = [
  'benchmark',
  'arm',
  'baseline',
  'item',
  'outcome',
  'image',
  'correct_option',
  'arm_prediction',
  'arm_scores',
  'baseline_prediction',
  'baseline_scores',
];

export function itemsCsvRows(c: ComparisonWithTest, rows: ItemRow[]): unknown[][] {
  return rows.map((r) => [
    c.benchmark,
    c.arm,
    c.baseline,
    r.item,
    r.outcome,
    r.image,
    r.options[r.correctOption],
    r.arm?.prediction,
    r.arm?.scores,
    r.baseline?.prediction,
    r.baseline?.scores,
  ]);
}

/** tables/failed.csv: every failed sample, in the order of samples.jsonl. */
export const FAILED_CSV_HEADER = ['benchmark', 'item', 'arm', 'code', 'message'];

export function failedCsvRows(failed: FailedRow[]): unknown[][] {
  return failed.map((s) => [s.benchmark, s.item, s.arm, s.code, s.message]);
}

/**
 * The tables written whole from the report model; tables/items.csv (ITEMS_CSV_HEADER, itemsCsvRows)
 * and tables/failed.csv (FAILED_CSV_HEADER, failedCsvRows) are written a part at a time (report-stream.ts).
 */
export function renderCsvTables(model: ReportModel): Record<string, string> {
  const tables: Record<string, string> = {};
  tables['headline.csv'] = csv(...headlineCsv(model));
  tables['accuracy.csv'] = csv(
    [
      'benchmark',
      'arm',
      'model',
      'prompt',
      'convention',
      'metric',
      'value',
      'ci_low',
      'ci_high',
      'correct',
      'total',
      'items',
      'failed',
      'unparseable',
      'option_order',
    ],
    model.arms.flatMap((a) =>
      a.metrics.headline.map((h) => [
        a.benchmark,
        a.arm,
        a.model,
        a.prompt,
        a.metrics.convention,
        h.name,
        h.value,
        a.ci[h.name]?.low,
        a.ci[h.name]?.high,
        h.correct,
        h.total,
        a.items,
        a.failed,
        a.unparseable,
        (a.option_orders ?? []).join('/'),
      ]),
    ),
  );
  tables['comparison.csv'] = csv(
    ['benchmark', 'arm', 'baseline', 'n', 'both', 'only_arm', 'only_baseline', 'neither', 'excluded', 'mcnemar_p'],
    model.comparisons.map((c) => [c.benchmark, c.arm, c.baseline, c.n, c.both, c.onlyArm, c.onlyBaseline, c.neither, c.excluded, c.mcnemarP]),
  );
  tables['differences.csv'] = csv(
    ['benchmark', 'arm', 'versus', 'metric', 'difference', 'ci_low', 'ci_high', 'n'],
    model.differences.map((d) => [d.benchmark, d.arm, d.versus, d.metric, d.difference, d.ci?.low, d.ci?.high, d.n]),
  );
  tables['agreement.csv'] = csv(
    ['benchmark', 'pair', 'clip_image_cosine', 'arm', 'pair_correct'],
    model.agreement.flatMap((v) => v.pairs.flatMap((p) => Object.entries(p.correct).map(([arm, ok]) => [v.benchmark, p.pair, p.cosine, arm, ok ? 1 : 0]))),
  );
  tables['pair-modes.csv'] = csv(
    ['benchmark', 'category', 'arm', 'variant', 'value', 'correct', 'total'],
    model.pairModes.map((r) => [r.benchmark, r.category, r.arm, r.variant, r.value, r.correct, r.total]),
  );
  tables['references.csv'] = csv(
    ['benchmark', 'model', 'metric', 'published_percent', 'verified', 'source', 'note'],
    model.references.flatMap((r) => r.references.map((x) => [r.benchmark, x.model, x.metric, x.value, x.verified, x.source, x.note])),
  );
  tables['circular-eval.csv'] = csv(
    ['benchmark', 'arm', 'option_order', 'value', 'correct', 'n', 'correct_file_order'],
    (model.summary.circular_eval ?? []).map((c) => [c.benchmark, c.arm, c.option_order, c.value, c.correct, c.n, c.correct_file_order]),
  );
  tables['position-bias.csv'] = csv(
    ['benchmark', 'arm', 'option_orders', 'prompts', 'letter', 'picked', 'correct_here', 'picked_and_right', 'no_pick'],
    (model.summary.position_bias ?? []).flatMap((b) =>
      b.positions.map((p) => [b.benchmark, b.arm, b.option_orders.join('/'), b.prompts, p.letter, p.picked, p.correct_here, p.picked_and_right, b.no_pick]),
    ),
  );
  for (const [name, t] of Object.entries(probeCsvTables(model.probe.tables, model.probe.runs))) tables[name] = csv(t.header, t.rows);
  return tables;
}
