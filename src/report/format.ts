import type { Interval } from '../analysis/statistics.js';

/** Shared number formatting, so markdown, HTML and the CSV round-trip test agree. */
export const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : (100 * v).toFixed(1));

export const ci = (i: Interval | null | undefined): string => (i ? `[${pct(i.low)}, ${pct(i.high)}]` : '');

export const signedPoints = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}` : '–');

export function pValue(p: number): string {
  if (p >= 0.001) return p.toFixed(3);
  return p.toExponential(1);
}

/** A markdown table cell: pipes escaped, newlines flattened. */
export function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Short display of a score row, e.g. "0.21 0.19 0.18 0.20". */
export function scoreList(row: number[] | undefined): string {
  if (!row) return '';
  return row.map((v) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(3) : v.toExponential(2))).join(' ');
}
