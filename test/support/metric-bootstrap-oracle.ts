import type { BenchmarkFamily } from '../../src/benchmarks/benchmark-family.js';
import type { Item, ScoreMatrix } from '../../src/core/item.js';
import { bootstrapIntervals, type Interval } from '../../src/analysis/statistics.js';

/**
 * TEST ORACLE (issue 16): the bootstrap as it was before it was computed from per-cluster sufficient
 * statistics (src/analysis/metric-bootstrap.ts), kept verbatim so that tests can check that the fast
 * one gives the same intervals for the same seed. Not used by src/.
 *
 * Bootstrap CIs of a benchmark's own metric. The resampling unit is the metric's cluster: a
 * What'sUp set (its 4 items, so individual, pair and set accuracy are all recomputed from whole
 * sets), an MMVP pair, or a single item. Each resampled copy of a cluster gets fresh ids and a
 * fresh cluster key, and the family's exact metric code is run on the resample, so the CI is of
 * the number the authors' code computes.
 */

export interface BootstrapOptions {
  /** `groups` key naming an item's cluster; undefined = each item is its own unit. */
  clusterKey?: string | undefined;
  /** Further `groups` keys that name groups within a cluster (MMVP's `index_pair`): relabelled per copy too. */
  relabelKeys?: readonly string[];
  iterations?: number;
  seed?: number;
}

interface Cluster {
  items: Item[];
}

function clusters(items: Item[], clusterKey: string | undefined): Cluster[] {
  if (!clusterKey) return items.map((i) => ({ items: [i] }));
  const byKey = new Map<string, Item[]>();
  for (const item of items) {
    const key = item.groups[clusterKey] ?? `\u0000${item.id}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(item);
  }
  return [...byKey.values()].map((list) => ({ items: list }));
}

function resample(cs: Cluster[], indices: number[], options: BootstrapOptions, scoreMaps: Array<Map<string, ScoreMatrix>>) {
  const keys = [...(options.clusterKey ? [options.clusterKey] : []), ...(options.relabelKeys ?? [])];
  const items: Item[] = [];
  const maps = scoreMaps.map(() => new Map<string, ScoreMatrix>());
  indices.forEach((ci, copy) => {
    for (const item of cs[ci]!.items) {
      const id = `${item.id}#${copy}`;
      let groups = item.groups;
      for (const key of keys) if (groups[key] !== undefined) groups = { ...groups, [key]: `${groups[key]}#${copy}` };
      items.push({ ...item, id, groups });
      scoreMaps.forEach((m, k) => {
        const s = m.get(item.id);
        if (s) maps[k]!.set(id, s);
      });
    }
  });
  return { items, maps };
}

function headlineValues(family: BenchmarkFamily, items: Item[], scores: Map<string, ScoreMatrix>, names: string[]): number[] {
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

/** 95% CI of each headline metric of one arm. */
export function bootstrapHeadline(
  family: BenchmarkFamily,
  items: Item[],
  scores: Map<string, ScoreMatrix>,
  names: string[],
  options: BootstrapOptions = {},
): Record<string, Interval | null> {
  const cs = clusters(items, options.clusterKey);
  const intervals = bootstrapIntervals(
    cs.length,
    names.length,
    (idx) => {
      const r = resample(cs, idx, options, [scores]);
      return headlineValues(family, r.items, r.maps[0]!, names);
    },
    { iterations: options.iterations ?? 1000, seed: options.seed ?? 0 },
  );
  return Object.fromEntries(names.map((n, k) => [n, intervals[k]!]));
}

/**
 * Paired bootstrap of the differences A − B of headline metrics, on the items both arms answered:
 * the same resampled clusters for both arms, all metrics from one run of the metric code per arm.
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
  const intervals = bootstrapIntervals(
    cs.length,
    names.length,
    (idx) => {
      const r = resample(cs, idx, options, [scoresA, scoresB]);
      const ra = headlineValues(family, r.items, r.maps[0]!, names);
      const rb = headlineValues(family, r.items, r.maps[1]!, names);
      return ra.map((v, k) => v - rb[k]!);
    },
    { iterations: options.iterations ?? 1000, seed: options.seed ?? 0 },
  );
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
