/**
 * A property of an authors' file that is not an error (the authors' code scores it as it is) but
 * that a user should know about, counted by the loader and listed by `perceive data check`.
 */
export interface DataQuirk {
  file: string;
  /** What the rows have in common, e.g. `true_caption equals false_caption`. */
  quirk: string;
  count: number;
  /** The first few 0-based rows. */
  rows: number[];
}

/** Rows (0-based) equal, as JSON, to an earlier row of the same list: exact duplicates beyond the first. */
export function duplicateRows(rows: readonly unknown[]): number[] {
  const seen = new Set<string>();
  const dups: number[] = [];
  rows.forEach((r, i) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) dups.push(i);
    else seen.add(key);
  });
  return dups;
}

export function quirk(file: string, description: string, rows: number[]): DataQuirk {
  return { file, quirk: description, count: rows.length, rows: rows.slice(0, 10) };
}
