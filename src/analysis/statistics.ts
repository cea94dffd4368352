import { mulberry32 } from '../core/seeded-random.js';

/**
 * Statistics for the report: the exact McNemar test and seeded percentile bootstrap CIs.
 */

/** log C(n, k) via log-gamma-free summation (exact enough for n up to millions). */
function logChoose(n: number, k: number): number {
  let s = 0;
  const kk = Math.min(k, n - k);
  for (let i = 1; i <= kk; i++) s += Math.log(n - kk + i) - Math.log(i);
  return s;
}

/**
 * Exact (binomial) two-sided McNemar test on the discordant counts b (only the arm right) and
 * c (only the baseline right): p = min(1, 2 · P[X ≤ min(b, c)]), X ~ Binomial(b + c, 1/2).
 * This is statsmodels' `mcnemar(table, exact=True)` (scipy.stats.binomtest two-sided on a
 * symmetric binomial gives the same value). p = 1 when there is no discordant pair.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  if (n <= 1000) {
    // Exact integer arithmetic: sum of C(n, i) for i ≤ k, over 2^n (both below 2^1000 < max double).
    let term = 1n;
    let sum = 1n;
    for (let i = 1; i <= k; i++) {
      term = (term * BigInt(n - i + 1)) / BigInt(i);
      sum += term;
    }
    return Math.min(1, (2 * Number(sum)) / 2 ** n);
  }
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/** The bootstrap's seeded generator (same seed → same intervals). */
export const seededRandom = mulberry32;

/**
 * The percentile of a sorted sample with linear interpolation between order statistics
 * (numpy's default `np.percentile(..., method='linear')`).
 */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Interval {
  low: number;
  high: number;
}

/**
 * Percentile bootstrap: `iterations` resamples of the unit indices 0..n-1 with replacement,
 * `statistic` evaluated on each, the 2.5th and 97.5th percentiles of the values returned.
 * Resamples whose statistic is not finite are skipped.
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: number[]) => number,
  options: { iterations?: number; seed?: number; level?: number } = {},
): Interval | null {
  if (n === 0) return null;
  const iterations = options.iterations ?? 1000;
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const rand = seededRandom(options.seed ?? 0);
  const values: number[] = [];
  const idx = new Array<number>(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const v = statistic(idx);
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return { low: percentile(values, alpha), high: percentile(values, 1 - alpha) };
}

/**
 * The same as `bootstrapInterval` for several statistics computed from one resample (e.g. all
 * headline metrics of a benchmark from one run of its metric code); each gets its own interval.
 */
export function bootstrapIntervals(
  n: number,
  count: number,
  statistics: (indices: number[]) => number[],
  options: { iterations?: number; seed?: number; level?: number } = {},
): Array<Interval | null> {
  if (n === 0) return new Array<Interval | null>(count).fill(null);
  const iterations = options.iterations ?? 1000;
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const rand = seededRandom(options.seed ?? 0);
  const values: number[][] = Array.from({ length: count }, () => []);
  const idx = new Array<number>(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const v = statistics(idx);
    for (let k = 0; k < count; k++) if (Number.isFinite(v[k])) values[k]!.push(v[k]!);
  }
  return values.map((vs) => {
    if (vs.length === 0) return null;
    vs.sort((a, b) => a - b);
    return { low: percentile(vs, alpha), high: percentile(vs, 1 - alpha) };
  });
}

/**
 * `bootstrapIntervals` when the statistics depend only on how often each type of unit is drawn:
 * unit i has type `typeOf[i]`, and `statistics` receives the number of draws of each type. The
 * draws are the same as `bootstrapIntervals`'s for the same seed (n per resample, in order), so the
 * intervals are the same whenever statistics(counts) equals the statistics of the drawn indices.
 */
export function bootstrapTypeCounts(
  typeOf: Int32Array,
  typeCount: number,
  count: number,
  statistics: (counts: Int32Array) => number[],
  options: { iterations?: number; seed?: number; level?: number } = {},
): Array<Interval | null> {
  const n = typeOf.length;
  if (n === 0) return new Array<Interval | null>(count).fill(null);
  const iterations = options.iterations ?? 1000;
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const rand = seededRandom(options.seed ?? 0);
  const values: number[][] = Array.from({ length: count }, () => []);
  const counts = new Int32Array(typeCount);
  for (let it = 0; it < iterations; it++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[typeOf[Math.floor(rand() * n)]!]! += 1;
    const v = statistics(counts);
    for (let k = 0; k < count; k++) if (Number.isFinite(v[k])) values[k]!.push(v[k]!);
  }
  return values.map((vs) => {
    if (vs.length === 0) return null;
    vs.sort((a, b) => a - b);
    return { low: percentile(vs, alpha), high: percentile(vs, 1 - alpha) };
  });
}

/** Bootstrap CI of a mean of 0/1 (or real) outcomes, resampling the outcomes. */
export function bootstrapMean(outcomes: number[], options: { iterations?: number; seed?: number } = {}): Interval | null {
  return bootstrapInterval(outcomes.length, (idx) => idx.reduce((s, i) => s + outcomes[i]!, 0) / idx.length, options);
}
