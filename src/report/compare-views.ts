import type { TopLevelSpec } from 'vega-lite';
import type { HeadlineRow, HeadlineTable } from '../analysis/headline.js';
import type { PositionBias } from '../analysis/position-bias.js';
import type { ProbeTable } from '../analysis/probe-table.js';
import { renderSvg } from './charts.js';
import { htmlEscape as h, mdCell, pct, pValue, signedPoints } from './format.js';
import { baselineName, directionText, optionOrderText, promptVersion } from './headline-table.js';
import type { ReportModel } from './report-model.js';
import { letterRows, unionLetters } from './position-bias-rows.js';

/**
 * The views `perceive report --compare` shows for two runs, each only where both runs have it: the
 * headline table side by side, the CircularEval figure, the position bias. A view builds one
 * section (tables, charts, one CSV) from the two report models; the markdown, the HTML and the CSV
 * files are rendered from sections alike, so a new view (e.g. the probe) is one entry of
 * `COMPARE_VIEWS`.
 */
export interface CompareTableBlock {
  caption?: string;
  header: string[];
  rows: string[][];
}

export interface CompareSection {
  /** The HTML anchor (`compare-<id>`) and the CSV's name (`tables/compare-<id>.csv`). */
  id: string;
  title: string;
  note: string;
  /** Shown at the top of the comparison, right after the two runs are named (the headline); else after the metric tables. */
  lead?: boolean;
  tables: CompareTableBlock[];
  /** HTML only: vega-lite specs, each rendered to an inline SVG under `data-chart="<kind>"`. */
  charts: Array<{ kind: string; spec: TopLevelSpec }>;
  csv: { header: string[]; rows: unknown[][] };
}

export interface CompareView {
  id: string;
  /** The section, or null when the two runs share nothing this view shows. */
  build(a: ReportModel, b: ReportModel): CompareSection | null;
}

const key = (benchmark: string, arm: string): string => `${benchmark}\u0000${arm}`;

/** Pairs of entries with the same benchmark and arm in both runs, in A's order. */
function matched<T extends { benchmark: string; arm: string }>(a: readonly T[], b: readonly T[]): Array<[T, T]> {
  const inB = new Map(b.map((x) => [key(x.benchmark, x.arm), x]));
  return a.flatMap((x) => {
    const y = inB.get(key(x.benchmark, x.arm));
    return y ? [[x, y] as [T, T]] : [];
  });
}

/** One value, or "A: x; B: y" when the runs differ. */
function both(x: string, y: string): string {
  return x === y ? x : `A: ${x}; B: ${y}`;
}

type HeadlineEntry = HeadlineRow & { benchmark: string; table: HeadlineTable };

function headlineEntries(m: ReportModel): HeadlineEntry[] {
  return (m.summary.headline ?? []).flatMap((t) => t.rows.map((r) => ({ ...r, benchmark: t.benchmark, table: t })));
}

const cells = (r: HeadlineRow): string => `${r.both} / ${r.only_arm} / ${r.only_baseline} / ${r.neither} of ${r.n}`;

export const HEADLINE_COMPARE: CompareView = {
  id: 'headline',
  build(a, b) {
    const pairs = matched(headlineEntries(a), headlineEntries(b));
    if (pairs.length === 0) return null;
    const labelA = (e: HeadlineEntry): string => baselineName(a.manifest, e.table.baseline);
    const labelB = (e: HeadlineEntry): string => baselineName(b.manifest, e.table.baseline);
    const named = (m: ReportModel, e: HeadlineEntry): string =>
      `${e.convention || '?'}, options ${optionOrderText(e.option_orders)}, ${promptVersion(m.manifest, e.arm, e.prompt)}`;
    return {
      id: 'headline',
      title: 'Headline: each run against its baseline',
      lead: true,
      note:
        "Each run's headline (its own baseline and its own Holm–Bonferroni family: the VLM arms it compared on the benchmark), side by side for the VLM arms both runs have. " +
        'Cells: both right / only the arm right / only the baseline right / both wrong, of the items both arms answered in that run.',
      tables: [
        {
          header: [
            'benchmark',
            'arm',
            'baseline',
            'convention, options, prompt',
            'A cells',
            'A McNemar p',
            'A Holm p (m)',
            'A direction',
            'B cells',
            'B McNemar p',
            'B Holm p (m)',
            'B direction',
          ],
          rows: pairs.map(([x, y]) => [
            x.benchmark,
            x.arm,
            both(`${x.table.baseline} (${labelA(x)})`, `${y.table.baseline} (${labelB(y)})`),
            both(named(a, x), named(b, y)),
            cells(x),
            pValue(x.p),
            `${pValue(x.p_adjusted)} (${x.table.m})`,
            `${directionText(x.winner, labelA(x))} (α = ${x.table.alpha})`,
            cells(y),
            pValue(y.p),
            `${pValue(y.p_adjusted)} (${y.table.m})`,
            `${directionText(y.winner, labelB(y))} (α = ${y.table.alpha})`,
          ]),
        },
      ],
      charts: [],
      csv: {
        header: [
          'benchmark',
          'arm',
          'a_convention',
          'b_convention',
          'a_option_order',
          'b_option_order',
          'a_prompt',
          'b_prompt',
          ...['n', 'both', 'only_arm', 'only_baseline', 'neither', 'mcnemar_p', 'p_holm', 'arms_compared', 'direction'].flatMap((c) => [`a_${c}`, `b_${c}`]),
        ],
        rows: pairs.map(([x, y]) => [
          x.benchmark,
          x.arm,
          x.convention,
          y.convention,
          x.option_orders.join('/'),
          y.option_orders.join('/'),
          promptVersion(a.manifest, x.arm, x.prompt),
          promptVersion(b.manifest, y.arm, y.prompt),
          x.n,
          y.n,
          x.both,
          y.both,
          x.only_arm,
          y.only_arm,
          x.only_baseline,
          y.only_baseline,
          x.neither,
          y.neither,
          x.p,
          y.p,
          x.p_adjusted,
          y.p_adjusted,
          x.table.m,
          y.table.m,
          directionText(x.winner, labelA(x)),
          directionText(y.winner, labelB(y)),
        ]),
      },
    };
  },
};

export const CIRCULAR_EVAL_COMPARE: CompareView = {
  id: 'circular-eval',
  build(a, b) {
    const pairs = matched(a.summary.circular_eval ?? [], b.summary.circular_eval ?? []);
    if (pairs.length === 0) return null;
    const diff = (x: number | null, y: number | null): string => (x === null || y === null ? '–' : signedPoints(y - x));
    return {
      id: 'circular-eval',
      title: 'CircularEval',
      note: 'Right under every rotation of the options (MMBench CircularEval), per arm and benchmark both runs ran with `option_order: circular`; B − A in percentage points.',
      tables: [
        {
          header: ['benchmark', 'arm', 'A CircularEval %', 'B CircularEval %', 'B − A (pp)', 'A right in file order', 'B right in file order'],
          rows: pairs.map(([x, y]) => [
            x.benchmark,
            x.arm,
            `${pct(x.value)} (${x.correct}/${x.n})`,
            `${pct(y.value)} (${y.correct}/${y.n})`,
            diff(x.value, y.value),
            `${x.correct_file_order}/${x.n}`,
            `${y.correct_file_order}/${y.n}`,
          ]),
        },
      ],
      charts: [],
      csv: {
        header: ['benchmark', 'arm', 'a_value', 'a_correct', 'a_n', 'b_value', 'b_correct', 'b_n', 'a_correct_file_order', 'b_correct_file_order'],
        rows: pairs.map(([x, y]) => [x.benchmark, x.arm, x.value, x.correct, x.n, y.value, y.correct, y.n, x.correct_file_order, y.correct_file_order]),
      },
    };
  },
};

const share = (k: number, n: number): number | null => (n > 0 ? k / n : null);

/** Grouped bars per letter position: share picked and share correct there, in each run. */
function biasCompareSpec(x: PositionBias, y: PositionBias): TopLevelSpec {
  const runs = [
    ['A', x],
    ['B', y],
  ] as const;
  const values = runs.flatMap(([run, b]) =>
    b.positions.flatMap((p) => [
      { letter: p.letter, what: `${run} picked`, share: 100 * (share(p.picked, b.prompts) ?? 0) },
      { letter: p.letter, what: `${run} correct there`, share: 100 * (share(p.correct_here, b.prompts) ?? 0) },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${x.benchmark}: ${x.arm}`,
    width: { step: 16 },
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

export const POSITION_BIAS_COMPARE: CompareView = {
  id: 'position-bias',
  build(a, b) {
    const pairs = matched(a.summary.position_bias ?? [], b.summary.position_bias ?? []);
    if (pairs.length === 0) return null;
    const rows = pairs.flatMap(([x, y]) => {
      const letters = unionLetters(x, y);
      const ry = letterRows(y, letters);
      return letterRows(x, letters).map((px, i) => ({ x, y, letter: px.letter, px, py: ry[i]! }));
    });
    return {
      id: 'position-bias',
      title: 'Position bias',
      note: 'Per letter-scored arm and benchmark both runs have: how often each letter position was picked against how often the correct option sat there, over every prompt (each rotation counted).',
      tables: [
        {
          header: ['benchmark', 'arm', 'A options', 'A most picked', 'B options', 'B most picked', 'A prompts', 'B prompts'],
          rows: pairs.map(([x, y]) => [
            x.benchmark,
            x.arm,
            x.option_orders.join('/'),
            x.preferred ?? '–',
            y.option_orders.join('/'),
            y.preferred ?? '–',
            String(x.prompts),
            String(y.prompts),
          ]),
        },
        {
          header: ['benchmark', 'arm', 'letter', 'A picked %', 'A correct there %', 'B picked %', 'B correct there %'],
          rows: rows.map((r) => [
            r.x.benchmark,
            r.x.arm,
            r.letter,
            pct(r.px.pickedShare),
            pct(r.px.correctShare),
            pct(r.py.pickedShare),
            pct(r.py.correctShare),
          ]),
        },
      ],
      charts: pairs.map(([x, y]) => ({ kind: 'position-bias', spec: biasCompareSpec(x, y) })),
      csv: {
        header: [
          'benchmark',
          'arm',
          'letter',
          'a_option_order',
          'b_option_order',
          'a_prompts',
          'a_picked',
          'a_correct_here',
          'b_prompts',
          'b_picked',
          'b_correct_here',
        ],
        rows: rows.map((r) => [
          r.x.benchmark,
          r.x.arm,
          r.letter,
          r.x.option_orders.join('/'),
          r.y.option_orders.join('/'),
          r.x.prompts,
          r.px.picked,
          r.px.correctHere,
          r.y.prompts,
          r.py.picked,
          r.py.correctHere,
        ]),
      },
    };
  },
};

/** Every view of `report --compare`, in the order the report shows them. A new view is one entry here. */
/** Probe tables both runs have (same benchmark and probe arm): overall accuracy of every row, A beside B. */
export const PROBE_COMPARE: CompareView = {
  id: 'probe',
  build(a, b) {
    const tableKey = (t: ProbeTable): string => key(t.benchmark, t.probeArm);
    const inB = new Map(b.probe.tables.map((t) => [tableKey(t), t]));
    const pairs = a.probe.tables.flatMap((t) => {
      const u = inB.get(tableKey(t));
      return u ? [[t, u] as const] : [];
    });
    if (pairs.length === 0) return null;
    const rows = pairs.flatMap(([t, u]) => {
      const other = new Map(u.rows.map((r) => [r.arm, r]));
      return t.rows.flatMap((r) => {
        const v = other.get(r.arm);
        return v ? [{ table: t, arm: r.arm, kind: r.kind, x: r.overall, y: v.overall }] : [];
      });
    });
    const diff = (x: number | null, y: number | null): string => (x === null || y === null ? '–' : signedPoints(y - x));
    return {
      id: 'probe',
      title: 'Linear probe',
      note:
        "Each probe (k-fold grouped L2 logistic regression on a frozen embedding) beside the run's other arms on the same rows, overall accuracy in each run; B − A in percentage points. " +
        "The probe rows predict the class; the other rows are the arm's pick read as a class.",
      tables: [
        {
          header: ['benchmark', 'probe', 'row', 'A accuracy %', 'B accuracy %', 'B − A (pp)', 'A n', 'B n'],
          rows: rows.map((r) => [
            r.table.benchmark,
            `${r.table.probeArm} (${r.table.embedding}, ${r.table.target})`,
            r.kind === 'probe' ? `${r.arm} (probe)` : r.arm,
            pct(r.x.accuracy),
            pct(r.y.accuracy),
            diff(r.x.accuracy, r.y.accuracy),
            String(r.x.n),
            String(r.y.n),
          ]),
        },
      ],
      charts: [],
      csv: {
        header: ['benchmark', 'probe_arm', 'embedding', 'target', 'row', 'row_kind', 'a_accuracy', 'a_n', 'b_accuracy', 'b_n'],
        rows: rows.map((r) => [
          r.table.benchmark,
          r.table.probeArm,
          r.table.embedding,
          r.table.target,
          r.arm,
          r.kind,
          r.x.accuracy,
          r.x.n,
          r.y.accuracy,
          r.y.n,
        ]),
      },
    };
  },
};

export const COMPARE_VIEWS: readonly CompareView[] = [HEADLINE_COMPARE, CIRCULAR_EVAL_COMPARE, POSITION_BIAS_COMPARE, PROBE_COMPARE];

export function compareSections(a: ReportModel, b: ReportModel, views: readonly CompareView[] = COMPARE_VIEWS): CompareSection[] {
  return views.flatMap((v) => {
    const s = v.build(a, b);
    return s ? [s] : [];
  });
}

export function compareSectionsMarkdown(sections: readonly CompareSection[]): string[] {
  const out: string[] = [];
  for (const s of sections) {
    out.push(`## ${s.title}`, '', s.note, '');
    for (const t of s.tables) {
      if (t.caption) out.push(`### ${t.caption}`, '');
      out.push(`| ${t.header.map(mdCell).join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`);
      for (const r of t.rows) out.push(`| ${r.map(mdCell).join(' | ')} |`);
      out.push('');
    }
  }
  return out;
}

export async function compareSectionsHtml(sections: readonly CompareSection[]): Promise<string[]> {
  const parts: string[] = [];
  for (const s of sections) {
    parts.push(`<h2 id="compare-${h(s.id)}">${h(s.title)}</h2>`, `<p>${h(s.note).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`);
    for (const t of s.tables) {
      if (t.caption) parts.push(`<h3>${h(t.caption)}</h3>`);
      parts.push(
        `<table><tr>${t.header.map((c) => `<th>${h(c)}</th>`).join('')}</tr>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`).join('')}</table>`,
      );
    }
    for (const c of s.charts) parts.push(`<div class="chart" data-chart="${h(c.kind)}">${await renderSvg(c.spec)}</div>`);
  }
  return parts;
}
