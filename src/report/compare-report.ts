import path from 'node:path';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { compareItems } from '../analysis/item-comparison.js';
import { bootstrapDifference } from '../analysis/metric-bootstrap.js';
import { readReportSamples } from '../analysis/report-samples.js';
import { groupSamples, itemFromSample, scoreMap } from '../analysis/sample-items.js';
import { mcnemarExact, type Interval } from '../analysis/statistics.js';
import { bootstrapClusterFor } from '../analysis/summary.js';
import { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import { differenceSpec, renderSvg } from './charts.js';
import { csv } from './csv-tables.js';
import { type CompareSection, compareSections, compareSectionsHtml, compareSectionsMarkdown } from './compare-views.js';
import { ci, htmlEscape as h, mdCell, pct, pValue, signedPoints } from './format.js';
import { loadReportModel } from './run-report.js';
import type { ReportModel } from './report-model.js';

/**
 * `perceive report --compare RUN_A RUN_B`: the same tables for two runs side by side — the same
 * arm on the same benchmark in both runs (a prompt ablation across runs, or two models), with
 * B − A differences (paired bootstrap on the items both answered) and the per-item 2x2 with McNemar.
 */
export interface CompareRow {
  benchmark: string;
  arm: string;
  metric: string;
  a: number | null;
  aCi: Interval | null;
  b: number | null;
  bCi: Interval | null;
  difference: number;
  differenceCi: Interval | null;
  n: number;
}

export interface CompareTable {
  benchmark: string;
  arm: string;
  n: number;
  both: number;
  onlyB: number;
  onlyA: number;
  neither: number;
  mcnemarP: number;
}

export interface CompareModel {
  a: ReportModel;
  b: ReportModel;
  rows: CompareRow[];
  tables: CompareTable[];
  /** The views both runs have (compare-views.ts): headline, CircularEval, position bias. */
  sections: CompareSection[];
}

function relabel(samples: Sample[], label: string): Sample[] {
  return samples.map((s) => ({ ...s, arm: `${label}` }));
}

export function buildCompareModel(runA: RunDirectory, runB: RunDirectory): CompareModel {
  const a = loadReportModel(runA);
  const b = loadReportModel(runB);
  const samplesA = readReportSamples(runA);
  const samplesB = readReportSamples(runB);
  const formats = new Map<string, BenchmarkSpec['format']>();
  for (const m of [a, b]) for (const x of m.manifest.config?.benchmarks ?? []) formats.set(x.name, x.format as BenchmarkSpec['format']);
  const gA = groupSamples(samplesA);
  const gB = groupSamples(samplesB);
  const rows: CompareRow[] = [];
  const tables: CompareTable[] = [];
  for (const [benchmark, armsA] of gA) {
    const armsB = gB.get(benchmark);
    const format = formats.get(benchmark);
    if (!armsB || !format) continue;
    const family = benchmarkFamily(format);
    for (const [arm, listA] of armsA) {
      const listB = armsB.get(arm);
      if (!listB) continue;
      const sa = scoreMap(listA);
      const sb = scoreMap(listB);
      const items = listA.map(itemFromSample);
      const n = items.filter((i) => sa.has(i.id) && sb.has(i.id)).length;
      const ma = a.arms.find((x) => x.benchmark === benchmark && x.arm === arm);
      const mb = b.arms.find((x) => x.benchmark === benchmark && x.arm === arm);
      for (const hA of ma?.metrics.headline ?? []) {
        const hB = mb?.metrics.headline.find((x) => x.name === hA.name);
        const d = bootstrapDifference(family, items, sb, sa, hA.name, { ...bootstrapClusterFor(format) });
        rows.push({
          benchmark,
          arm,
          metric: hA.name,
          a: hA.value,
          aCi: ma?.ci[hA.name] ?? null,
          b: hB?.value ?? null,
          bCi: mb?.ci[hA.name] ?? null,
          difference: d.difference,
          differenceCi: d.interval,
          n,
        });
      }
      const [c] = compareItems([...relabel(listA, 'A'), ...relabel(listB, 'B')], 'A');
      if (c)
        tables.push({
          benchmark,
          arm,
          n: c.n,
          both: c.both,
          onlyB: c.onlyArm,
          onlyA: c.onlyBaseline,
          neither: c.neither,
          mcnemarP: mcnemarExact(c.onlyArm, c.onlyBaseline),
        });
    }
  }
  return { a, b, rows, tables, sections: compareSections(a, b) };
}

export function renderCompareMarkdown(m: CompareModel): string {
  const out = [`# perceive comparison: ${m.a.runId} (A) vs ${m.b.runId} (B)`, ''];
  for (const [label, r] of [
    ['A', m.a],
    ['B', m.b],
  ] as const) {
    out.push(
      `- **${label}** ${r.runId}: ` +
        (r.manifest.models ?? []).map((x) => `${x.name} ${x.hash.slice(0, 12)}…`).join(', ') +
        '; ' +
        (r.manifest.arms ?? []).map((x) => `${x.arm}${x.prompt ? ` (${x.prompt.id} v${x.prompt.version})` : ''}`).join(', '),
    );
  }
  out.push('', ...compareSectionsMarkdown(m.sections.filter((s) => s.lead)));
  out.push('## Metrics side by side', '', 'B − A in percentage points; paired 95% bootstrap CI on the items both runs answered.', '');
  out.push('| benchmark | arm | metric | A % | B % | B − A (pp) | 95% CI | items |', '|---|---|---|---|---|---|---|---|');
  for (const r of m.rows) {
    out.push(
      `| ${r.benchmark} | ${r.arm} | ${r.metric} | ${pct(r.a)} ${ci(r.aCi)} | ${pct(r.b)} ${ci(r.bCi)} | ${signedPoints(r.difference)} | ${r.differenceCi ? `[${signedPoints(r.differenceCi.low)}, ${signedPoints(r.differenceCi.high)}]` : ''} | ${r.n} |`,
    );
  }
  out.push(
    '',
    '## Per item: B against A',
    '',
    '| benchmark | arm | items | both right | only B | only A | neither | McNemar p |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const t of m.tables)
    out.push(`| ${mdCell(t.benchmark)} | ${t.arm} | ${t.n} | ${t.both} | ${t.onlyB} | ${t.onlyA} | ${t.neither} | ${pValue(t.mcnemarP)} |`);
  out.push('', ...compareSectionsMarkdown(m.sections.filter((s) => !s.lead)));
  return out.join('\n');
}

export async function renderCompareHtml(m: CompareModel): Promise<string> {
  const md = renderCompareMarkdown(m);
  const rows = m.rows
    .map(
      (r) =>
        `<tr><td>${h(r.benchmark)}</td><td>${h(r.arm)}</td><td>${h(r.metric)}</td><td>${pct(r.a)} ${ci(r.aCi)}</td><td>${pct(r.b)} ${ci(r.bCi)}</td><td>${signedPoints(r.difference)}</td><td>${r.differenceCi ? `[${signedPoints(r.differenceCi.low)}, ${signedPoints(r.differenceCi.high)}]` : ''}</td><td>${r.n}</td></tr>`,
    )
    .join('');
  const tables = m.tables
    .map(
      (t) =>
        `<tr><td>${h(t.benchmark)}</td><td>${h(t.arm)}</td><td>${t.n}</td><td>${t.both}</td><td>${t.onlyB}</td><td>${t.onlyA}</td><td>${t.neither}</td><td>${pValue(t.mcnemarP)}</td></tr>`,
    )
    .join('');
  const chart = m.rows.length
    ? await renderSvg(
        differenceSpec(
          'B − A',
          m.rows.map((r) => ({
            label: `${r.benchmark} ${r.arm} (${r.metric})`,
            difference: r.difference,
            low: r.differenceCi?.low ?? null,
            high: r.differenceCi?.high ?? null,
          })),
        ),
      )
    : '';
  const title = md.split('\n')[0]!.replace(/^# /, '');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title><style>body{font:14px system-ui,sans-serif;margin:2em auto;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 7px}</style></head><body>
<h1>${h(title)}</h1>
${(await compareSectionsHtml(m.sections.filter((s) => s.lead))).join('\n')}
<h2>Metrics side by side</h2><table><tr><th>benchmark</th><th>arm</th><th>metric</th><th>A %</th><th>B %</th><th>B − A (pp)</th><th>95% CI</th><th>items</th></tr>${rows}</table>
<div class="chart" data-chart="differences">${chart}</div>
<h2>Per item: B against A</h2><table><tr><th>benchmark</th><th>arm</th><th>items</th><th>both right</th><th>only B</th><th>only A</th><th>neither</th><th>McNemar p</th></tr>${tables}</table>
${(await compareSectionsHtml(m.sections.filter((s) => !s.lead))).join('\n')}
</body></html>\n`;
}

/** Writes report.md, report.html and tables/*.csv of the comparison into `outDir`. */
export async function writeCompareReport(dirA: string, dirB: string, outDir?: string): Promise<{ dir: string; model: CompareModel }> {
  const runA = RunDirectory.open(dirA);
  const runB = RunDirectory.open(dirB);
  const model = buildCompareModel(runA, runB);
  const out = new RunDirectory(
    outDir ? path.dirname(path.resolve(outDir)) : path.dirname(runA.dir),
    outDir ? path.basename(outDir) : `compare-${runA.runId}-vs-${runB.runId}`,
  );
  out.create();
  out.writeFileAtomic('report.md', renderCompareMarkdown(model));
  out.writeFileAtomic('report.html', await renderCompareHtml(model));
  out.writeFileAtomic(
    'tables/compare.csv',
    csv(
      ['benchmark', 'arm', 'metric', 'a', 'b', 'difference', 'ci_low', 'ci_high', 'n'],
      model.rows.map((r) => [r.benchmark, r.arm, r.metric, r.a, r.b, r.difference, r.differenceCi?.low, r.differenceCi?.high, r.n]),
    ),
  );
  out.writeFileAtomic(
    'tables/compare-items.csv',
    csv(
      ['benchmark', 'arm', 'n', 'both', 'only_b', 'only_a', 'neither', 'mcnemar_p'],
      model.tables.map((t) => [t.benchmark, t.arm, t.n, t.both, t.onlyB, t.onlyA, t.neither, t.mcnemarP]),
    ),
  );
  for (const s of model.sections) out.writeFileAtomic(`tables/compare-${s.id}.csv`, csv(s.csv.header, s.csv.rows));
  return { dir: out.dir, model };
}
