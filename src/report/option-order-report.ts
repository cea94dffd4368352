import type { TopLevelSpec } from 'vega-lite';
import type { ArmMetricsWithCi, RunSummary } from '../analysis/summary.js';
import type { PositionBias } from '../analysis/position-bias.js';
import { renderSvg } from './charts.js';
import { htmlEscape as h, pct } from './format.js';
import { letterRows } from './position-bias-rows.js';

/**
 * The option-order views of a report (issue 15): the order every number was computed under, the
 * CircularEval figure beside the authors' metric, and the position-bias table and chart. Kept apart
 * from the markdown/HTML renderers, which call these functions.
 */

/** The accuracy table's prompt cell with the option order named (letter-scored arms only). */
export function promptWithOptionOrder(a: Pick<ArmMetricsWithCi, 'prompt' | 'option_orders'>): string {
  const orders = a.option_orders ?? [];
  return `${a.prompt ?? '–'}${orders.length > 0 ? `, options ${orders.join('/')}` : ''}`;
}

function biasRows(b: PositionBias): string[][] {
  return letterRows(b).map((r) => [r.letter, String(r.picked), pct(r.pickedShare), String(r.correctHere), pct(r.correctShare), String(r.pickedAndRight)]);
}

const BIAS_HEADER = ['letter', 'picked', 'picked %', 'correct there', 'correct there %', 'picked and right'];
const CIRCULAR_NOTE =
  "CircularEval (MMBench): an item is right only if it is right under every rotation of its options, each rotation judged by the benchmark's own rule; the authors' metric in the accuracy table is computed on the rotations' mean scores mapped back to the file's order.";
const BIAS_NOTE =
  'Every prompt counted (each image, each presentation: circular counts every rotation): how often each letter position was picked against how often the correct option sat there.';

export function optionOrderMarkdown(summary: RunSummary): string[] {
  const circ = summary.circular_eval ?? [];
  const bias = summary.position_bias ?? [];
  if (circ.length === 0 && bias.length === 0) return [];
  const out = ['## Option order: CircularEval and position bias', ''];
  if (circ.length > 0) {
    out.push(
      CIRCULAR_NOTE,
      '',
      '| benchmark | arm | option order | CircularEval % | right under rotation 0 (file order) | items |',
      '|---|---|---|---|---|---|',
    );
    for (const c of circ)
      out.push(`| ${c.benchmark} | ${c.arm} | ${c.option_order} | ${pct(c.value)} (${c.correct}/${c.n}) | ${c.correct_file_order}/${c.n} | ${c.n} |`);
    out.push('');
  }
  if (bias.length > 0) {
    out.push(BIAS_NOTE, '');
    for (const b of bias) {
      out.push(
        `### ${b.benchmark}: ${b.arm} (options ${b.option_orders.join('/')}; ${b.prompts} prompts; most picked: ${b.preferred ?? '–'}${b.no_pick > 0 ? `; no letter: ${b.no_pick}` : ''})`,
        '',
      );
      out.push(`| ${BIAS_HEADER.join(' | ')} |`, `|${BIAS_HEADER.map(() => '---').join('|')}|`);
      for (const r of biasRows(b)) out.push(`| ${r.join(' | ')} |`);
      out.push('');
    }
  }
  return out;
}

/** Grouped bars per letter position: share of prompts picked there against share correct there. */
export function positionBiasSpec(title: string, b: PositionBias): TopLevelSpec {
  const values = b.positions.flatMap((p) => [
    { letter: p.letter, what: 'picked', share: b.prompts > 0 ? (100 * p.picked) / b.prompts : 0 },
    { letter: p.letter, what: 'correct there', share: b.prompts > 0 ? (100 * p.correct_here) / b.prompts : 0 },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: { step: 22 },
    height: 140,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'letter', type: 'nominal', title: 'letter position', axis: { labelAngle: 0 } },
      xOffset: { field: 'what', type: 'nominal' },
      y: { field: 'share', type: 'quantitative', title: '% of prompts', scale: { domain: [0, 100] } },
      color: { field: 'what', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
}

function htmlTable(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export async function optionOrderHtml(summary: RunSummary): Promise<string[]> {
  const circ = summary.circular_eval ?? [];
  const bias = summary.position_bias ?? [];
  if (circ.length === 0 && bias.length === 0) return [];
  const parts = ['<h2 id="option-order">Option order: CircularEval and position bias</h2>'];
  if (circ.length > 0) {
    parts.push(`<p>${h(CIRCULAR_NOTE)}</p>`);
    parts.push(
      htmlTable(
        ['benchmark', 'arm', 'option order', 'CircularEval %', 'right under rotation 0', 'items'],
        circ.map((c) => [c.benchmark, c.arm, c.option_order, `${pct(c.value)} (${c.correct}/${c.n})`, `${c.correct_file_order}/${c.n}`, String(c.n)]),
      ),
    );
  }
  if (bias.length > 0) parts.push(`<p>${h(BIAS_NOTE)}</p>`);
  for (const b of bias) {
    parts.push(
      `<h3>${h(b.benchmark)}: ${h(b.arm)} <span class="muted">(options ${h(b.option_orders.join('/'))}; ${b.prompts} prompts; most picked: ${h(b.preferred ?? '–')})</span></h3>`,
    );
    parts.push(htmlTable(BIAS_HEADER, biasRows(b)));
    parts.push(`<div class="chart" data-chart="position-bias">${await renderSvg(positionBiasSpec(`${b.benchmark}: ${b.arm}`, b))}</div>`);
  }
  return parts;
}
