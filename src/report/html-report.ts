import sharp from 'sharp';
import { accuracySpec, cosineBinSpec, differenceSpec, renderSvg } from './charts.js';
import { ci, htmlEscape as h, pct, pValue, scoreList, signedPoints } from './format.js';
import { headerLines, tinyWarning } from './markdown-report.js';
import { headlineHtml } from './headline-table.js';
import { optionOrderHtml, promptWithOptionOrder } from './option-order-report.js';
import { probeHtml } from './probe-report.js';
import type { ItemRow, ReportModel } from './report-model.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.warning{background:#fff4d6;border:1px solid #e0b84c;padding:.6em 1em}
.chart{margin:.5em 0}.thumb{width:96px;height:auto;border:1px solid #ddd}
.ok{color:#17703a}.bad{color:#b3261e}.muted{color:#777}
`;

const thumbCache = new Map<string, Promise<string>>();

/** A small inline JPEG of an image file (data URI), or '' when it cannot be read. Never enlarged (the page sizes it). */
function thumbnail(file: string): Promise<string> {
  let t = thumbCache.get(file);
  if (!t) {
    // Handed to sharp's thread pool at once, by path (sharp reads the file there; no image bytes wait
    // in memory): its work overlaps whatever the main thread does next (the analysis, when
    // `prefetchThumbnails` is called before it).
    t = sharp(file)
      .resize(96, 96, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 70 })
      .toBuffer()
      .then((b) => `data:image/jpeg;base64,${b.toString('base64')}`)
      .catch(() => '');
    thumbCache.set(file, t);
  }
  return t;
}

/** The win tables' rows (each comparison's first `WIN_ROWS` wins either way). */
export const WIN_ROWS = 300;

/** Starts the thumbnails of these images on sharp's thread pool; `renderHtmlReport` then finds them made. */
export function prefetchThumbnails(files: Iterable<string>): void {
  for (const f of files) void thumbnail(f);
}

async function thumbs(files: string[]): Promise<string> {
  const uris = await Promise.all(files.map(thumbnail));
  return uris
    .map((u, i) =>
      u
        ? `<img class="thumb" alt="${h(files[i]!.split('/').pop() ?? '')}" src="${u}">`
        : `<span class="muted">${h(files[i]!.split('/').pop() ?? '')} (unreadable)</span>`,
    )
    .join(' ');
}

function pickCell(s: ItemRow['arm']): string {
  if (!s) return '–';
  if (s.status === 'failed') return `<span class="bad">failed: ${h(s.error?.message ?? '')}</span>`;
  return `<span class="${s.correct ? 'ok' : 'bad'}">${s.correct ? '✓' : '✗'}</span> ${h(s.options[s.prediction ?? 0] ?? '')}`;
}

function table(header: string[], rows: string[][], numeric: boolean[] = []): string {
  return `<table><thead><tr>${header.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

async function winTable(rows: ItemRow[], arm: string, baseline: string): Promise<string> {
  // Every thumbnail of the table at once (sharp works on its thread pool), not one row after another.
  const images = await Promise.all(rows.map((r) => thumbs(r.images)));
  const body: string[][] = [];
  for (const [k, r] of rows.entries()) {
    body.push([
      h(r.item),
      images[k]!,
      r.options.map((o, i) => (i === r.correctOption ? `<b>${h(o)}</b>` : h(o))).join('<br>'),
      `${pickCell(r.arm)}<br><span class="muted">${h(scoreList(r.arm?.scores?.[0]))}</span>`,
      `${pickCell(r.baseline)}<br><span class="muted">${h(scoreList(r.baseline?.scores?.[0]))}</span>`,
    ]);
  }
  return table(['item', 'image', 'options (correct in bold)', h(arm), h(baseline)], body);
}

/** report.html: one self-contained file (inline CSS, inline SVG charts, inline thumbnails; no network). */
export async function renderHtmlReport(model: ReportModel): Promise<string> {
  const parts: string[] = [];
  parts.push(`<h1>perceive report: ${h(model.runId)}</h1>`);
  const warning = tinyWarning(model);
  if (warning) parts.push(`<p class="warning"><b>Warning:</b> ${h(warning).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`);
  parts.push(...headlineHtml(model));
  parts.push('<h2 id="run">Run</h2><ul>', ...headerLines(model).map((l) => `<li>${h(l).replace(/`([^`]+)`/g, '<code>$1</code>')}</li>`), '</ul>');

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

  parts.push(...(await optionOrderHtml(model.summary)));
  parts.push(...probeHtml(model.probe.tables, model.probe.baseline));

  parts.push('<h2 id="items">Per item: generation against contrastive matching</h2>');
  for (const c of model.comparisons) {
    parts.push(`<h3>${h(c.benchmark)}: ${h(c.arm)} vs ${h(c.baseline)}</h3>`);
    parts.push(
      table(
        ['', `${h(c.baseline)} right`, `${h(c.baseline)} wrong`],
        [
          [`<b>${h(c.arm)} right</b>`, `${c.both} (both)`, `${c.onlyArm} (only ${h(c.arm)})`],
          [`<b>${h(c.arm)} wrong</b>`, `${c.onlyBaseline} (only ${h(c.baseline)})`, `${c.neither} (neither)`],
        ],
      ),
    );
    parts.push(`<p>${c.n} items answered by both${c.excluded ? `; ${c.excluded} excluded` : ''}. Exact McNemar test: p = ${pValue(c.mcnemarP)}.</p>`);
    const armWins = c.rows.filter((r) => r.outcome === 'only arm');
    const baseWins = c.rows.filter((r) => r.outcome === 'only baseline');
    parts.push(
      `<h4>Where ${h(c.arm)} is right and ${h(c.baseline)} wrong (${armWins.length})</h4>`,
      await winTable(armWins.slice(0, WIN_ROWS), c.arm, c.baseline),
    );
    parts.push(
      `<h4>Where ${h(c.baseline)} is right and ${h(c.arm)} wrong (${baseWins.length})</h4>`,
      await winTable(baseWins.slice(0, WIN_ROWS), c.arm, c.baseline),
    );
  }

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

  if (model.failed.length > 0) {
    parts.push('<h2 id="failed">Failed items</h2>');
    parts.push(
      table(
        ['item', 'arm', 'reason'],
        model.failed.slice(0, 500).map((s) => [h(s.item), h(s.arm), `${h(s.error?.code ?? '')}: ${h(s.error?.message ?? '')}`]),
      ),
    );
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>perceive report: ${h(model.runId)}</title><style>${STYLE}</style></head><body>\n${parts.join('\n')}\n</body></html>\n`;
}
