import { accuracySpec, cosineBinSpec, differenceSpec, renderSvg } from './charts.js';
import { ci, htmlEscape as h, pct, pValue, signedPoints } from './format.js';
import { headerLines, tinyWarning } from './markdown-report.js';
import { headlineHtml } from './headline-table.js';
import { optionOrderHtml, promptWithOptionOrder } from './option-order-report.js';
import { probeHtml } from './probe-report.js';
import type { ReportModel } from './report-model.js';
import { EXPLORER_STYLE, explorerSection } from './explorer-page.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.warning{background:#fff4d6;border:1px solid #e0b84c;padding:.6em 1em}
.chart{margin:.5em 0}
.ok{color:#17703a}.bad{color:#b3261e}.muted{color:#777}
`;

function table(header: string[], rows: string[][], numeric: boolean[] = []): string {
  return `<table><thead><tr>${header.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

type Section = (model: ReportModel) => Promise<string[]> | string[];

function inlineCode(text: string): string {
  return h(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function titleSection(model: ReportModel): string[] {
  const parts = [`<h1>perceive report: ${h(model.runId)}</h1>`];
  const warning = tinyWarning(model);
  if (warning) parts.push(`<p class="warning"><b>Warning:</b> ${inlineCode(warning)}</p>`);
  parts.push(...headlineHtml(model));
  parts.push('<h2 id="run">Run</h2><ul>', ...headerLines(model).map((l) => `<li>${inlineCode(l)}</li>`), '</ul>');
  return parts;
}

async function accuracySection(model: ReportModel): Promise<string[]> {
  const parts: string[] = [];
  parts.push('<h2 id="accuracy">Accuracy per benchmark and arm</h2>');
  parts.push("<p>The benchmark authors' own metrics, with 95% bootstrap CIs (resampling the metric's unit). Failed items are excluded and counted.</p>");
  for (const benchmark of [...new Set(model.arms.map((a) => a.benchmark))]) {
    const arms = model.arms.filter((a) => a.benchmark === benchmark);
    const metricNames = [...new Set(arms.flatMap((a) => a.metrics.headline.map((x) => x.name)))];
    parts.push(`<h3>${h(benchmark)} <span class="muted">(${h([...new Set(arms.map((a) => a.metrics.convention))].join(', '))})</span></h3>`);
    parts.push(
      table(
        ['arm', 'prompt', 'items', 'failed', 'unparseable', ...metricNames.map((n) => `${h(n)} %`)],
        arms.map((a) => [
          h(a.arm),
          h(promptWithOptionOrder(a)),
          String(a.items),
          String(a.failed),
          String(a.unparseable),
          ...metricNames.map((n) => {
            const x = a.metrics.headline.find((m) => m.name === n);
            return x ? `${pct(x.value)} ${ci(a.ci[n])} <span class="muted">(${x.correct}/${Number(x.total.toFixed(2))})</span>` : '–';
          }),
        ]),
        [false, false, true, true, true, ...metricNames.map(() => true)],
      ),
    );
    const bars = arms.flatMap((a) =>
      a.metrics.headline
        .filter((x) => x.value !== null)
        .map((x) => ({ arm: a.arm, metric: x.name, value: x.value!, low: a.ci[x.name]?.low ?? null, high: a.ci[x.name]?.high ?? null })),
    );
    if (bars.length > 0) parts.push(`<div class="chart" data-chart="accuracy">${await renderSvg(accuracySpec(benchmark, bars))}</div>`);
  }
  return parts;
}

/** A count of the 2x2 that opens the explorer on its cell. */
function cellLink(c: ReportModel['comparisons'][number], cell: string, count: number): string {
  return `<a class="cell" href="#explorer" data-bench="${h(c.benchmark)}" data-arm="${h(c.arm)}" data-baseline="${h(c.baseline)}" data-cell="${cell}">${count}</a>`;
}

/** The 2x2 of every arm pair in one table (each count opens the explorer on its items). */
function itemsSection(model: ReportModel): string[] {
  const parts = ['<h2 id="items">Per item: generation against contrastive matching</h2>'];
  if (model.comparisons.length === 0) return [...parts, '<p>No arm pair: the baseline has no samples.</p>'];
  parts.push(
    '<p>The per-item 2x2 of each arm against the baseline on the items both answered (failed items excluded and counted), with the exact McNemar test. Each count opens the explorer below on those items.</p>',
    table(
      ['benchmark', 'arm', 'baseline', 'both right', 'only arm right', 'only baseline right', 'neither', 'excluded', 'items', 'McNemar p'],
      model.comparisons.map((c) => [
        h(c.benchmark),
        h(c.arm),
        h(c.baseline),
        cellLink(c, 'both', c.both),
        cellLink(c, 'arm', c.onlyArm),
        cellLink(c, 'baseline', c.onlyBaseline),
        cellLink(c, 'neither', c.neither),
        cellLink(c, 'excluded', c.excluded),
        String(c.n),
        pValue(c.mcnemarP),
      ]),
      [false, false, false, true, true, true, true, true, true, true],
    ),
  );
  return parts;
}

async function differencesSection(model: ReportModel): Promise<string[]> {
  const parts: string[] = [];
  if (model.differences.length > 0) {
    parts.push('<h2 id="ablation">Differences between arms (prompt ablation)</h2>');
    parts.push('<p>First arm minus second, percentage points, on the items both answered, paired 95% bootstrap CI.</p>');
    parts.push(
      table(
        ['benchmark', 'arm', 'versus', 'metric', 'difference (pp)', '95% CI', 'items'],
        model.differences.map((d) => [
          h(d.benchmark),
          h(d.arm),
          h(d.versus),
          h(d.metric),
          signedPoints(d.difference),
          d.ci ? `[${signedPoints(d.ci.low)}, ${signedPoints(d.ci.high)}]` : '',
          String(d.n),
        ]),
        [false, false, false, false, true, true, true],
      ),
    );
    const points = model.differences.map((d) => ({
      label: `${d.benchmark} ${d.arm} − ${d.versus} (${d.metric})`,
      difference: d.difference,
      low: d.ci?.low ?? null,
      high: d.ci?.high ?? null,
    }));
    parts.push(`<div class="chart" data-chart="differences">${await renderSvg(differenceSpec('differences between arms', points))}</div>`);
  }
  return parts;
}

async function agreementSection(model: ReportModel): Promise<string[]> {
  const parts: string[] = [];
  if (model.agreement.length > 0) {
    parts.push('<h2 id="agreement">Erroneous agreement</h2><p>CLIP image–image cosine of each image pair beside each arm\'s accuracy on that pair.</p>');
    parts.push(
      table(
        ['benchmark', 'pairs', 'mean CLIP image–image cosine', 'pair accuracy per arm'],
        model.agreement.map((v) => [
          h(v.benchmark),
          String(v.pairs.length),
          v.meanCosine.toFixed(4),
          Object.entries(v.pairAccuracy)
            .map(([a, x]) => `${h(a)} ${pct(x)}`)
            .join('<br>'),
        ]),
      ),
    );
    for (const v of model.agreement)
      parts.push(`<div class="chart" data-chart="cosine-bins">${await renderSvg(cosineBinSpec(`${v.benchmark}: pair accuracy by CLIP cosine`, v.bins))}</div>`);
  }
  return parts;
}

async function pairModesSection(model: ReportModel): Promise<string[]> {
  const parts: string[] = [];
  if (model.pairModes.length > 0) {
    parts.push('<h2 id="mmvp-pairs">MMVP pairs: one image per prompt, both images in one prompt, relaxed</h2>');
    parts.push(
      "<p>Strict = both questions of a pair right (the MMVP authors' pair accuracy). Relaxed = Li et al. v1's normalised-preference comparison; the variant is named on every row.</p>",
    );
    parts.push(
      table(
        ['benchmark', 'category', 'arm', 'variant', 'pair accuracy %', 'pairs'],
        model.pairModes.map((r) => [
          h(r.benchmark),
          h(r.category),
          h(r.arm),
          h(r.variant),
          `${pct(r.value)} <span class="muted">(${r.correct}/${r.total})</span>`,
          String(r.total),
        ]),
        [false, false, false, false, true, true],
      ),
    );
    const bars = model.pairModes
      .filter((r) => r.category === 'all' && r.value !== null)
      .map((r) => ({ arm: r.arm, metric: `${r.benchmark}: ${r.variant}`, value: r.value!, low: null, high: null }));
    if (bars.length > 0)
      parts.push(`<div class="chart" data-chart="pair-modes">${await renderSvg(accuracySpec('pair accuracy by way of asking', bars))}</div>`);
  }
  return parts;
}

function referencesSection(model: ReportModel): string[] {
  const parts: string[] = [];
  parts.push('<h2 id="references">Reference numbers from the papers</h2>');
  if (model.references.length === 0) parts.push('<p>No published numbers for these benchmarks.</p>');
  for (const r of model.references) {
    parts.push(`<h3>${h(r.benchmark)}</h3>`);
    parts.push(
      table(
        ['model', 'metric', 'published %', 'verified', 'source'],
        r.references.map((x) => [
          h(x.model),
          h(x.metric),
          String(x.value),
          x.verified ? 'yes' : '<b>unverified</b>',
          h(x.source) + (x.note ? ` <span class="muted">(${h(x.note)})</span>` : ''),
        ]),
      ),
    );
    parts.push(`<p>Ours: ${r.ours.map((o) => `${h(o.arm)} ${h(o.metric)} ${pct(o.value)}`).join('; ')}.</p>`);
  }
  parts.push(`<p>${h(model.errataNote)}</p>`);
  return parts;
}

function failedSection(model: ReportModel): string[] {
  const parts: string[] = [];
  if (model.failed.length > 0) {
    parts.push('<h2 id="failed">Failed items</h2>');
    parts.push(
      table(
        ['item', 'arm', 'reason'],
        model.failed.slice(0, 500).map((s) => [h(s.item), h(s.arm), `${h(s.code ?? '')}: ${h(s.message ?? '')}`]),
      ),
    );
  }
  return parts;
}

/**
 * report.html's sections in order, each its own render function: the headline and the run, the
 * accuracy tables, the per-item 2x2s and the explorer, then the rest.
 */
const SECTIONS: Section[] = [
  titleSection,
  accuracySection,
  itemsSection,
  (model) => optionOrderHtml(model.summary),
  (model) => probeHtml(model.probe.tables, model.probe.baseline),
  differencesSection,
  agreementSection,
  pairModesSection,
  referencesSection,
  failedSection,
];

/**
 * report.html: inline CSS and SVG charts; the per-item explorer's data and thumbnails are files
 * beside it (`report-data/`, `thumbs/`; see run-report.ts), loaded by script and img tags, so it opens
 * from disk with no server and no network. `explorer.items`: the explorer's item count (no explorer
 * section when absent).
 */
export async function renderHtmlReport(model: ReportModel, explorer?: { items: number }): Promise<string> {
  const parts: string[] = [];
  for (const section of SECTIONS) {
    parts.push(...(await section(model)));
    if (section === itemsSection && explorer) parts.push(explorerSection(explorer.items));
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>perceive report: ${h(model.runId)}</title><style>${STYLE}${EXPLORER_STYLE}</style></head><body>\n${parts.join('\n')}\n</body></html>\n`;
}
