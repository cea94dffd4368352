import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import type { Sample } from '../store/sample.js';
import { type ArmMetrics, computeArmMetrics } from './arm-metrics.js';
import { armKind } from './arm-kind.js';
import { compareItems, type ItemComparison } from './item-comparison.js';
import { bootstrapDifferences, bootstrapHeadline } from './metric-bootstrap.js';
import { groupSamples, itemFromSample, scoreMap } from './sample-items.js';
import { type Interval, mcnemarExact } from './statistics.js';
import { type CircularEvalFigure, circularEval } from './circular-eval.js';
import { optionOrdersOf } from './option-order-extra.js';
import { type PositionBias, positionBias } from './position-bias.js';
import { type HeadlineTable, headlineTables } from './headline.js';

/**
 * The resampling cluster of a benchmark format, as its family declares it (`BenchmarkFamily.bootstrap`;
 * absent = the item itself): What'sUp Controlled sets, MMVP question pairs; MMVP-VLM items are
 * already pairs; ARO, COCO/VG-QA and hard positives are resampled per item.
 */
export function bootstrapClusterFor(format: BenchmarkSpec['format']): { clusterKey?: string; relabelKeys?: readonly string[] } {
  const b = benchmarkFamily(format).bootstrap;
  return { ...(b?.clusterKey === undefined ? {} : { clusterKey: b.clusterKey }), ...(b?.relabelKeys === undefined ? {} : { relabelKeys: b.relabelKeys }) };
}

export interface ArmMetricsWithCi extends ArmMetrics {
  /** 95% percentile bootstrap CI per headline metric name. */
  ci: Record<string, Interval | null>;
  /** Free answers the parser could not map to an option (counted, never dropped or counted right). */
  unparseable: number;
  /** The option orders the numbers were computed under (letter-scored arms; empty for the others). */
  option_orders: string[];
}

export interface ComparisonWithTest extends ItemComparison {
  /** Exact two-sided McNemar p-value on (onlyArm, onlyBaseline). */
  mcnemarP: number;
}

export interface ArmDifference {
  benchmark: string;
  arm: string;
  versus: string;
  metric: string;
  difference: number;
  ci: Interval | null;
  /** Items both arms answered. */
  n: number;
}

export interface RunSummary {
  run_id: string;
  samples: number;
  ok: number;
  failed: number;
  failures_by_code: Record<string, number>;
  bootstrap: { iterations: number; seed: number; level: number };
  arms: ArmMetricsWithCi[];
  comparisons: ComparisonWithTest[];
  differences: ArmDifference[];
  /** CircularEval (right under every rotation) of every arm × benchmark run with `option_order: circular`. */
  circular_eval: CircularEvalFigure[];
  /** Letter position picked against letter position right, per letter-scored arm × benchmark. */
  position_bias: PositionBias[];
  /** Per benchmark: each VLM arm against the baseline, McNemar p Holm-adjusted across the arms (headline.ts). */
  headline: HeadlineTable[];
}

export interface SummaryOptions {
  iterations?: number;
  seed?: number;
}

/** Free answers the parser could not map: `extra.unparseable` is a flag, or one flag per image. */
function unparseable(samples: Sample[]): number {
  let n = 0;
  for (const s of samples) {
    const u = s.extra.unparseable;
    if (u === true) n += 1;
    else if (Array.isArray(u)) n += u.filter((x) => x === true).length;
  }
  return n;
}

/**
 * Arms that are prompt variants of one another: every `vlm2vec.*` arm (question, plain, user
 * variants), and settings of one arm kind, whatever their labels (`vlm.mcq` and `vlm.mcq.model`,
 * `vlm.contrast` and `vlm.contrast.l1`).
 */
function variantFamily(kind: string): string {
  return kind.startsWith('vlm2vec.') ? 'vlm2vec' : kind;
}

/** `benchmark\u0000arm` → the arm's kind, for the headline's choice of VLM arms. */
function armKinds(grouped: Map<string, Map<string, Sample[]>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [benchmark, byArm] of grouped) for (const [arm, list] of byArm) out.set(`${benchmark}\u0000${arm}`, armKind(list[0]!));
  return out;
}

export function summarise(
  runId: string,
  samples: Sample[],
  formats: Map<string, BenchmarkSpec['format']>,
  baseline: string,
  options: SummaryOptions = {},
): RunSummary {
  const iterations = options.iterations ?? 1000;
  const seed = options.seed ?? 0;
  const failuresByCode: Record<string, number> = {};
  for (const s of samples) if (s.error) failuresByCode[s.error.code] = (failuresByCode[s.error.code] ?? 0) + 1;

  const grouped = groupSamples(samples);
  const arms: ArmMetricsWithCi[] = computeArmMetrics(samples, formats).map((a) => {
    const list = grouped.get(a.benchmark)?.get(a.arm) ?? [];
    const format = formats.get(a.benchmark)!;
    const ci = bootstrapHeadline(
      benchmarkFamily(format),
      list.map(itemFromSample),
      scoreMap(list),
      a.metrics.headline.map((h) => h.name),
      { ...bootstrapClusterFor(format), iterations, seed },
    );
    return { ...a, ci, unparseable: unparseable(list), option_orders: optionOrdersOf(list) };
  });

  const comparisons = compareItems(samples, baseline).map((c) => ({ ...c, mcnemarP: mcnemarExact(c.onlyArm, c.onlyBaseline) }));

  // Every arm against the baseline, and prompt variants of one arm family against each other
  // (e.g. vlm2vec.question vs vlm2vec.plain): paired bootstrap on the items both answered.
  const differences: ArmDifference[] = [];
  for (const [benchmark, byArm] of grouped) {
    const format = formats.get(benchmark);
    if (!format) continue;
    const family = benchmarkFamily(format);
    const ids = [...byArm.keys()];
    const kindOf = (arm: string): string => variantFamily(armKind(byArm.get(arm)![0]!));
    const pairs: Array<[string, string]> = [];
    for (const a of ids) if (a !== baseline && byArm.has(baseline)) pairs.push([a, baseline]);
    for (const a of ids) for (const b of ids) if (a < b && a !== baseline && b !== baseline && kindOf(a) === kindOf(b)) pairs.push([a, b]);
    for (const [a, b] of pairs) {
      const la = byArm.get(a)!;
      const lb = byArm.get(b)!;
      const sa = scoreMap(la);
      const sb = scoreMap(lb);
      const items = la.map(itemFromSample);
      const names = arms.find((x) => x.benchmark === benchmark && x.arm === a)?.metrics.headline.map((h) => h.name) ?? [];
      const n = items.filter((i) => sa.has(i.id) && sb.has(i.id)).length;
      const ds = bootstrapDifferences(family, items, sa, sb, names, { ...bootstrapClusterFor(format), iterations, seed });
      for (const metric of names) differences.push({ benchmark, arm: a, versus: b, metric, difference: ds[metric]!.difference, ci: ds[metric]!.interval, n });
    }
  }

  return {
    run_id: runId,
    samples: samples.length,
    ok: samples.filter((s) => s.status === 'ok').length,
    failed: samples.filter((s) => s.status === 'failed').length,
    failures_by_code: failuresByCode,
    bootstrap: { iterations, seed, level: 0.95 },
    arms,
    comparisons,
    differences,
    circular_eval: circularEval(samples, formats),
    position_bias: positionBias(samples),
    headline: headlineTables(comparisons, arms, armKinds(grouped)),
  };
}
