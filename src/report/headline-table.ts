import type { HeadlineRow, HeadlineTable, HeadlineWinner } from '../analysis/headline.js';
import { htmlEscape as h, mdCell, pct, pValue } from './format.js';
import type { ReportManifest, ReportModel } from './report-model.js';

/**
 * The headline table at the top of report.md / report.html (and tables/headline.csv): per
 * benchmark, each VLM arm against the baseline as the four 2x2 cells with counts and shares, the
 * exact McNemar p, the Holm-adjusted p and the direction, each row naming its convention, option
 * order and prompt version. The numbers come from `RunSummary.headline` (analysis/headline.ts).
 */

const KIND_NAMES: Record<string, string> = { clip: 'CLIP', siglip: 'SigLIP' };

/** The baseline as the direction names it: its model's kind (CLIP, SigLIP), else the arm id. */
export function baselineName(manifest: ReportManifest, baseline: string): string {
  const model = manifest.arms?.find((a) => a.arm === baseline)?.model;
  const kind = manifest.models?.find((m) => m.name === model)?.kind;
  return kind === undefined ? baseline : (KIND_NAMES[kind] ?? kind);
}

export function directionText(winner: HeadlineWinner, baselineLabel: string): string {
  if (winner === 'untested') return 'not tested (no item both answered)';
  return winner === 'arm' ? 'generation wins' : winner === 'baseline' ? `${baselineLabel} wins` : 'no significant difference';
}

/** The arm's prompt version as the manifest records it (`arms[].prompt`), else as its samples do. */
export function promptVersion(manifest: ReportManifest, arm: string, fromSamples: string | null): string {
  const p = manifest.arms?.find((a) => a.arm === arm)?.prompt;
  if (p) return `${p.id} v${p.version}`;
  return fromSamples ?? 'no prompt';
}

/** The option order of a row: letter-scored arms name theirs; the others score every option on its own. */
export function optionOrderText(orders: readonly string[]): string {
  return orders.length > 0 ? orders.join('/') : 'n/a (no letters)';
}

/** "3 (37.5%)": a cell's count and its share of the items both arms answered. */
export function cellText(k: number, n: number): string {
  return n > 0 ? `${k} (${pct(k / n)}%)` : String(k);
}

/** The benchmark's caption: the correction, its family size, the level, and the baseline's convention, option order and prompt. */
export function headlineCaption(manifest: ReportManifest, t: HeadlineTable, label: string): string {
  return (
    `Baseline \`${t.baseline}\` (${label}): convention ${t.baseline_convention || '?'}, options ${optionOrderText(t.baseline_option_orders)}, ` +
    `prompt ${promptVersion(manifest, t.baseline, t.baseline_prompt)}. McNemar p adjusted by Holm–Bonferroni across the ${t.m} VLM arm${t.m === 1 ? '' : 's'} ` +
    `compared on this benchmark; direction at α = ${t.alpha} on the adjusted p.`
  );
}

export const HEADLINE_NOTE =
  "Each VLM arm against the contrastive baseline on the items both answered, each item right or wrong by the benchmark's own per-item rule (the convention named per row): " +
  'the four cells of the 2x2 as counts and % of those items, the exact two-sided McNemar p on the two off-diagonal cells, that p adjusted for the arms compared, ' +
  'and the direction it supports. An arm asked `circular` is judged on its rotations\' mean scores in the file\'s order (CircularEval is under "Option order"). ' +
  'Only the arm right and only the baseline right weigh the same; the items of each are listed under "Per item" below.';

function columns(label: string, t: HeadlineTable): string[] {
  return [
    'arm',
    'convention',
    'option order',
    'prompt',
    'items',
    'both right',
    'only arm right',
    `only ${label} right`,
    'both wrong',
    'McNemar p',
    `Holm p (m = ${t.m})`,
    `direction (α = ${t.alpha})`,
  ];
}

function cells(manifest: ReportManifest, label: string, r: HeadlineRow): string[] {
  return [
    r.arm,
    r.convention || '?',
    optionOrderText(r.option_orders),
    promptVersion(manifest, r.arm, r.prompt),
    String(r.n) + (r.excluded > 0 ? ` (${r.excluded} excluded)` : ''),
    cellText(r.both, r.n),
    cellText(r.only_arm, r.n),
    cellText(r.only_baseline, r.n),
    cellText(r.neither, r.n),
    r.winner === 'untested' ? '–' : pValue(r.p),
    r.winner === 'untested' ? '–' : pValue(r.p_adjusted),
    directionText(r.winner, label),
  ];
}

/** The headline section of report.md (nothing when no benchmark has both the baseline and a VLM arm). */
export function headlineMarkdown(model: ReportModel): string[] {
  const tables = model.summary.headline ?? [];
  if (tables.length === 0) return [];
  const out = ['## Headline: generation against contrastive matching', '', HEADLINE_NOTE, ''];
  for (const t of tables) {
    const label = baselineName(model.manifest, t.baseline);
    const header = columns(label, t);
    out.push(`### ${t.benchmark}`, '', headlineCaption(model.manifest, t, label), '');
    out.push(`| ${header.map(mdCell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const r of t.rows) out.push(`| ${cells(model.manifest, label, r).map(mdCell).join(' | ')} |`);
    out.push('');
  }
  return out;
}

/** Markdown's `code` spans in escaped text as HTML. */
const code = (escaped: string): string => escaped.replace(/`([^`]+)`/g, '<code>$1</code>');

/** The headline section of report.html. */
export function headlineHtml(model: ReportModel): string[] {
  const tables = model.summary.headline ?? [];
  if (tables.length === 0) return [];
  const parts = ['<h2 id="headline">Headline: generation against contrastive matching</h2>', `<p>${code(h(HEADLINE_NOTE))}</p>`];
  for (const t of tables) {
    const label = baselineName(model.manifest, t.baseline);
    parts.push(`<h3>${h(t.benchmark)}</h3>`, `<p>${code(h(headlineCaption(model.manifest, t, label)))}</p>`);
    const rows = t.rows.map((r) => cells(model.manifest, label, r));
    parts.push(
      `<table class="headline"><thead><tr>${columns(label, t)
        .map((c) => `<th>${h(c)}</th>`)
        .join('')}</tr></thead><tbody>${rows
        .map((r) => `<tr>${r.map((c, i) => `<td${i >= 4 && i <= 10 ? ' class="num"' : ''}>${i === 11 ? `<b>${h(c)}</b>` : h(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`,
    );
  }
  return parts;
}

/** tables/headline.csv's header and rows: one row per benchmark × VLM arm, shares in [0, 1], full-precision p's. */
export function headlineCsv(model: ReportModel): [string[], unknown[][]] {
  const share = (k: number, n: number): number | null => (n > 0 ? k / n : null);
  return [
    [
      'benchmark',
      'arm',
      'arm_kind',
      'baseline',
      'baseline_name',
      'convention',
      'option_order',
      'prompt',
      'n',
      'both',
      'both_share',
      'only_arm',
      'only_arm_share',
      'only_baseline',
      'only_baseline_share',
      'neither',
      'neither_share',
      'excluded',
      'mcnemar_p',
      'p_holm',
      'arms_compared',
      'alpha',
      'direction',
    ],
    (model.summary.headline ?? []).flatMap((t) => {
      const label = baselineName(model.manifest, t.baseline);
      return t.rows.map((r) => [
        t.benchmark,
        r.arm,
        r.arm_kind,
        t.baseline,
        label,
        r.convention,
        r.option_orders.join('/'),
        promptVersion(model.manifest, r.arm, r.prompt),
        r.n,
        r.both,
        share(r.both, r.n),
        r.only_arm,
        share(r.only_arm, r.n),
        r.only_baseline,
        share(r.only_baseline, r.n),
        r.neither,
        share(r.neither, r.n),
        r.excluded,
        r.p,
        r.p_adjusted,
        t.m,
        t.alpha,
        directionText(r.winner, label),
      ]);
    }),
  ];
}
