import { type BenchmarkFamily, type BootstrapStatistics, RATIO_OF_SUMS } from '../benchmarks/benchmark-family.js';
import type { Item, ScoreMatrix } from '../core/item.js';
import { bootstrapTypeCounts, type Interval } from './statistics.js';

/**
 * Bootstrap CIs of a benchmark's own metric. The resampling unit is the metric's cluster (the
 * family's `bootstrap.clusterKey`): a What'sUp set (its 4 items, so individual, pair and set accuracy
 * are all recomputed from whole sets), an MMVP pair, or a single item. Every resampled copy of a
 * cluster is a group of its own (its cluster key and `relabelKeys` are fresh per copy), so the metric
 * of a resample is a function of the sum, over its clusters, of each cluster's sufficient statistics
 * (`BootstrapStatistics`: Σ correct / Σ total, or a family's own rule such as ARO's macro mean). Those
 * statistics are read once per cluster from the family's own metric code run on that cluster alone;
 * each resample then only counts how often each kind of cluster was drawn. Same seed, same draws and
 * the same values as running the whole metric on every resample (test/support/metric-bootstrap-oracle.ts,
 * which did that, is the test oracle): counts and their sums are exact in floating point, and the last
 * division (or mean) is the metric's own expression.
 *
 * A cluster whose metric throws makes every resample that draws it NaN (skipped), as the whole
 * metric throwing did. If the statistics summed over all clusters do not give the family's metric on
 * the whole data, the family's statistics do not describe its metric: that metric gets no interval.
 */

export interface BootstrapOptions {
  /** `groups` key naming an item's cluster; undefined = each item is its own unit. */
  clusterKey?: string | undefined;
  /** Further `groups` keys that name groups within a cluster (MMVP's `index_pair`): relabelled per copy. */
  relabelKeys?: readonly string[];
  iterations?: number;
  seed?: number;
}

/** Clusters in order of first appearance (the order the draws index). */
function clusters(items: Item[], clusterKey: string | undefined): Item[][] {
  if (!clusterKey) return items.map((i) => [i]);
  const byKey = new Map<string, Item[]>();
  for (const item of items) {
    const key = item.groups[clusterKey] ?? `\u0000${item.id}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(item);
  }
  return [...byKey.values()];
}

function headlineValues(family: BenchmarkFamily, items: Item[], scores: Map<string, ScoreMatrix>, names: readonly string[]): number[] {
  try {
    const headline = family.metrics(items, scores).headline;
    return names.map((name) => {
      const v = headline.find((h) => h.name === name)?.value;
      return v === null || v === undefined ? Number.NaN : v;
    });
  } catch {
    return names.map(() => Number.NaN);
  }
}

/** One side (an arm's scores) of the statistics: each cluster's named counts, or null when its metric throws. */
function clusterStatistics(
  family: BenchmarkFamily,
  statistics: BootstrapStatistics,
  cs: Item[][],
  scores: Map<string, ScoreMatrix>,
): Array<Record<string, number> | null> {
  return cs.map((items) => {
    try {
      return statistics.ofCluster(family.metrics(items, scores));
    } catch {
      return null;
    }
  });
}

/**
 * Kinds of cluster: clusters with the same statistics on every side are one type. Returns each
 * cluster's type, and per type and side its statistics as (key index, value) lists (null: poisoned).
 */
function clusterTypes(sides: Array<Array<Record<string, number> | null>>, keys: Array<Map<string, number>>) {
  const n = sides[0]!.length;
  const typeOf = new Int32Array(n);
  const bySignature = new Map<string, number>();
  const types: Array<Array<{ at: Int32Array; values: Float64Array } | null>> = [];
  for (let c = 0; c < n; c++) {
    const parts = sides.map((side, s) => {
      const stats = side[c];
      if (stats === null || stats === undefined) return null;
      const entries = Object.entries(stats);
      for (const [k] of entries) if (!keys[s]!.has(k)) keys[s]!.set(k, keys[s]!.size);
      entries.sort((x, y) => keys[s]!.get(x[0])! - keys[s]!.get(y[0])!);
      return entries;
    });
    const signature = JSON.stringify(parts);
    let t = bySignature.get(signature);
    if (t === undefined) {
      t = types.length;
      bySignature.set(signature, t);
      types.push(
        parts.map((entries, s) =>
          entries === null ? null : { at: Int32Array.from(entries.map(([k]) => keys[s]!.get(k)!)), values: Float64Array.from(entries.map(([, v]) => v)) },
        ),
      );
    }
    typeOf[c] = t;
  }
  return { typeOf, types };
}

/**
 * The bootstrap of `sides.length` arms' headline values on the same clusters (one arm: its values;
 * two: their difference A − B), with the check that the statistics reproduce the whole-data values.
 */
function bootstrapFromStatistics(
  family: BenchmarkFamily,
  cs: Item[][],
  scoreMaps: Array<Map<string, ScoreMatrix>>,
  names: readonly string[],
  whole: number[][],
  options: BootstrapOptions,
): Array<Interval | null> {
  const statistics = family.bootstrap?.statistics ?? RATIO_OF_SUMS;
  const perSide = scoreMaps.map((m) => clusterStatistics(family, statistics, cs, m));
  const keys = scoreMaps.map(() => new Map<string, number>());
  const { typeOf, types } = clusterTypes(perSide, keys);
  const reducers = keys.map((k) => statistics.headline([...k.keys()], names));
  const sums = keys.map((k) => new Float64Array(k.size));
  /** Sums the statistics of the drawn clusters (counts per type); false when one of them is poisoned. */
  const fill = (counts: ArrayLike<number>): boolean => {
    for (const s of sums) s.fill(0);
    for (let t = 0; t < types.length; t++) {
      const w = counts[t]!;
      if (w === 0) continue;
      const type = types[t]!;
      for (let s = 0; s < type.length; s++) {
        const stats = type[s];
        if (!stats) return false;
        const sum = sums[s]!;
        for (let j = 0; j < stats.at.length; j++) sum[stats.at[j]!]! += w * stats.values[j]!;
      }
    }
    return true;
  };
  const valuesOf = (counts: ArrayLike<number>): number[] => {
    if (!fill(counts)) return names.map(() => Number.NaN);
    const values = reducers.map((r, s) => r(sums[s]!));
    return values.length === 1 ? values[0]! : values[0]!.map((v, k) => v - values[1]![k]!);
  };
  // Every cluster once must give the family's own figures on the whole data; else no interval.
  const once = new Int32Array(types.length);
  for (const t of typeOf) once[t]! += 1;
  const same = (x: number, y: number): boolean => x === y || (Number.isNaN(x) && Number.isNaN(y));
  const exact = fill(once)
    ? (() => {
        const per = reducers.map((r, s) => r(sums[s]!));
        return names.map((_, k) => per.every((v, s) => same(v[k]!, whole[s]![k]!)));
      })()
    : names.map(() => true);
  const intervals = bootstrapTypeCounts(typeOf, types.length, names.length, valuesOf, { iterations: options.iterations ?? 1000, seed: options.seed ?? 0 });
  return intervals.map((iv, k) => (exact[k] ? iv : null));
}

/** 95% CI of each headline metric of one arm. */
export function bootstrapHeadline(
  family: BenchmarkFamily,
  items: Item[],
  scores: Map<string, ScoreMatrix>,
  names: string[],
  options: BootstrapOptions = {},
): Record<string, Interval | null> {
  const cs = clusters(items, options.clusterKey);
  const whole = headlineValues(family, items, scores, names);
  const intervals = bootstrapFromStatistics(family, cs, [scores], names, [whole], options);
  return Object.fromEntries(names.map((n, k) => [n, intervals[k]!]));
}

/**
 * Paired bootstrap of the differences A − B of headline metrics, on the items both arms answered:
 * the same resampled clusters for both arms.
 */
export function bootstrapDifferences(
  family: BenchmarkFamily,
  items: Item[],
  scoresA: Map<string, ScoreMatrix>,
  scoresB: Map<string, ScoreMatrix>,
  names: string[],
  options: BootstrapOptions = {},
): Record<string, { difference: number; interval: Interval | null }> {
  const shared = items.filter((i) => scoresA.has(i.id) && scoresB.has(i.id));
  const a = headlineValues(family, shared, scoresA, names);
  const b = headlineValues(family, shared, scoresB, names);
  const cs = clusters(shared, options.clusterKey);
  const intervals = bootstrapFromStatistics(family, cs, [scoresA, scoresB], names, [a, b], options);
  return Object.fromEntries(names.map((n, k) => [n, { difference: a[k]! - b[k]!, interval: intervals[k]! }]));
}

/** The same for one metric. */
export function bootstrapDifference(
  family: BenchmarkFamily,
  items: Item[],
  scoresA: Map<string, ScoreMatrix>,
  scoresB: Map<string, ScoreMatrix>,
  name: string,
  options: BootstrapOptions = {},
): { difference: number; interval: Interval | null } {
  return bootstrapDifferences(family, items, scoresA, scoresB, [name], options)[name]!;
}
