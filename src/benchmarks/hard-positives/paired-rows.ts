import type { z } from 'zod';
import type { LoadFailure } from '../benchmark-family.js';
import { describeZodIssues } from '../zod-row-issues.js';

/**
 * run_eval.py pairs the data/ file and the swapped_data/ file of hard positives by row index
 * (amitakamath/hard_positives run_eval.py `main`). Both rows of a pair are validated with `schema`;
 * a bad or missing row fails that pair naming its file, row and field, and swapped rows beyond the
 * data/ file's (when the whole file is read) are reported once, as run_eval.py would fail on them.
 */
export function pairRowsByIndex<T>(
  schema: z.ZodType<T>,
  files: { annotationFile: string; swappedFile: string },
  original: unknown[],
  swapped: unknown[],
  limit: number | undefined,
): { pairs: Array<{ row: number; a: T; b: T }>; failures: LoadFailure[] } {
  const { annotationFile, swappedFile } = files;
  const n = limit === undefined ? original.length : Math.min(limit, original.length);
  const pairs: Array<{ row: number; a: T; b: T }> = [];
  const failures: LoadFailure[] = [];
  for (let row = 0; row < n; row++) {
    const fail = (reason: string): void => {
      failures.push({ source: { file: annotationFile, row }, reason });
    };
    const a = schema.safeParse(original[row]);
    if (!a.success) {
      fail(`${annotationFile} row ${row}: ${describeZodIssues(a.error)}`);
      continue;
    }
    if (row >= swapped.length) {
      fail(`${swappedFile} row ${row}: missing (the file has ${swapped.length} rows, ${annotationFile} has ${original.length})`);
      continue;
    }
    const b = schema.safeParse(swapped[row]);
    if (!b.success) {
      fail(`${swappedFile} row ${row}: ${describeZodIssues(b.error)}`);
      continue;
    }
    pairs.push({ row, a: a.data, b: b.data });
  }
  if (limit === undefined && swapped.length > original.length) {
    failures.push({
      source: { file: swappedFile, row: original.length },
      reason: `${swappedFile} rows ${original.length}..${swapped.length - 1}: no matching row in ${annotationFile} (${original.length} rows); run_eval.py would fail on them`,
    });
  }
  return { pairs, failures };
}
