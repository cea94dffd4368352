import type { LoadFailure } from '../benchmarks/benchmark-family.js';

/** How many bad rows the console shows one by one; the rest are counted (all are in bad-rows.jsonl). */
export const BAD_ROWS_SHOWN = 5;

/** The reason without its file and row (`<file> row 12: field x: …` → `field x: …`), for counting. */
export function reasonKind(reason: string): string {
  return reason
    .replace(/^.*?\brow \d+:\s*/, '')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

/**
 * Console lines for a benchmark's bad rows: every row when there are few; otherwise counts per
 * reason (most frequent first), the first few rows, and where the full list is. 25,000 bad rows
 * print a dozen lines, not 25,000.
 */
export function badRowLines(failures: LoadFailure[], fullList: string, shown = BAD_ROWS_SHOWN): string[] {
  if (failures.length === 0) return [];
  if (failures.length <= shown) return failures.map((f) => `  bad row: ${f.reason}`);
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(reasonKind(f.reason), (counts.get(reasonKind(f.reason)) ?? 0) + 1);
  const kinds = [...counts].sort((a, b) => b[1] - a[1]);
  const lines = [`  ${failures.length} bad rows, ${kinds.length} reason${kinds.length === 1 ? '' : 's'}:`];
  for (const [kind, n] of kinds.slice(0, 10)) lines.push(`    ${n} × ${kind}`);
  if (kinds.length > 10) lines.push(`    … and ${kinds.length - 10} other reasons`);
  lines.push(`  first ${shown}:`);
  for (const f of failures.slice(0, shown)) lines.push(`    ${f.reason}`);
  lines.push(`  all ${failures.length} bad rows: ${fullList}`);
  return lines;
}
