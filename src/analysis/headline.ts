import type { ItemComparison } from './item-comparison.js';

/** What the headline reads of a comparison (summary.ts's `ComparisonWithTest`). */
export interface HeadlineComparison extends ItemComparison {
  mcnemarP: number;
}

/** What the headline reads of an arm's metrics (summary.ts's `ArmMetricsWithCi`). */
export interface HeadlineArmFacts {
  benchmark: string;
  arm: string;
  prompt: string | null;
  option_orders: string[];
  metrics: { convention: string };
}

/**
 * The report's headline (issue 15): per benchmark, every VLM arm against the contrastive baseline as
 * the four cells of the per-item 2x2 (`compareItems`: both right, only the arm, only the baseline,
 * both wrong), the exact McNemar p already computed for that comparison, the p adjusted across the
 * arms compared on the benchmark (Holm–Bonferroni), and the direction at level `alpha`. Both
 * off-diagonal cells carry the same weight: the direction is read from whichever is larger once the
 * adjusted p is below `alpha`.
 */
/** `untested`: no item both arms answered (every item failed on one side): outside the Holm family. */
export type HeadlineWinner = 'arm' | 'baseline' | 'none' | 'untested';

export interface HeadlineRow {
  arm: string;
  /** The arm's kind (`vlm.mcq`, `vlm2vec.question`, …). */
  arm_kind: string;
  /** The benchmark's metric convention the per-item right/wrong follows (the family's per-item rule). */
  convention: string;
  /** The option orders the arm's answers were given under (letter-scored arms; empty for the others). */
  option_orders: string[];
  /** The arm's prompt as its samples record it (`id@vN`), null when none. */
  prompt: string | null;
  /** Items both arms answered, and the four cells (counts; shares are of `n`). */
  n: number;
  both: number;
  only_arm: number;
  only_baseline: number;
  neither: number;
  /** Items left out because either arm failed on them. */
  excluded: number;
  /** Exact two-sided McNemar p on (only_arm, only_baseline). */
  p: number;
  /** Holm–Bonferroni adjusted p across the rows of this benchmark's table. */
  p_adjusted: number;
  winner: HeadlineWinner;
}

export interface HeadlineTable {
  benchmark: string;
  baseline: string;
  /** The baseline's convention, option orders and prompt, named as the rows' are. */
  baseline_convention: string;
  baseline_option_orders: string[];
  baseline_prompt: string | null;
  alpha: number;
  correction: 'holm';
  /** Rows compared (the family of the correction). */
  m: number;
  rows: HeadlineRow[];
}

/** The level the headline's directions are stated at. */
export const HEADLINE_ALPHA = 0.05;

/**
 * Holm–Bonferroni step-down adjusted p-values, in the input's order (R's `p.adjust(p, "holm")`,
 * statsmodels' `multipletests(p, method='holm')`): with the p's sorted ascending p(1) ≤ … ≤ p(m),
 * adj(i) = max over j ≤ i of min(1, (m − j + 1) · p(j)). Rejecting where adj < α is Holm's procedure.
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p || x.i - y.i);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/**
 * A VLM arm: every arm kind the generative model answers (`vlm.*`, `vlm2vec.*`). A probe trained on
 * the VLM's embedding (`vlm2vec.probe`) is not zero-shot generation: it has its own table.
 */
export function isVlmArmKind(kind: string): boolean {
  if (kind.endsWith('.probe')) return false;
  return kind.startsWith('vlm.') || kind.startsWith('vlm2vec.');
}

/**
 * One table per benchmark that has the baseline and at least one VLM arm; rows in the order of the
 * comparisons (the run's arm order). `armKinds` maps `benchmark\u0000arm` to the arm's kind.
 */
export function headlineTables(
  comparisons: readonly HeadlineComparison[],
  arms: readonly HeadlineArmFacts[],
  armKinds: ReadonlyMap<string, string>,
  options: { alpha?: number } = {},
): HeadlineTable[] {
  const alpha = options.alpha ?? HEADLINE_ALPHA;
  const metricsOf = (benchmark: string, arm: string): HeadlineArmFacts | undefined => arms.find((a) => a.benchmark === benchmark && a.arm === arm);
  const tables: HeadlineTable[] = [];
  for (const benchmark of [...new Set(comparisons.map((c) => c.benchmark))]) {
    const compared = comparisons.filter((c) => c.benchmark === benchmark && isVlmArmKind(armKinds.get(`${benchmark}\u0000${c.arm}`) ?? c.arm));
    if (compared.length === 0) continue;
    const baseline = compared[0]!.baseline;
    // Holm's family: the arms with at least one item both answered (an arm whose items all failed is no test).
    const tested = compared.filter((c) => c.n > 0);
    const adjustedTested = holmAdjust(tested.map((c) => c.mcnemarP));
    const adjusted = compared.map((c) => (c.n > 0 ? adjustedTested[tested.indexOf(c)]! : 1));
    const base = metricsOf(benchmark, baseline);
    tables.push({
      benchmark,
      baseline,
      baseline_convention: base?.metrics.convention ?? '',
      baseline_option_orders: base?.option_orders ?? [],
      baseline_prompt: base?.prompt ?? null,
      alpha,
      correction: 'holm',
      m: tested.length,
      rows: compared.map((c, k) => {
        const a = metricsOf(benchmark, c.arm);
        const pAdjusted = adjusted[k]!;
        const winner: HeadlineWinner =
          c.n === 0 ? 'untested' : pAdjusted >= alpha || c.onlyArm === c.onlyBaseline ? 'none' : c.onlyArm > c.onlyBaseline ? 'arm' : 'baseline';
        return {
          arm: c.arm,
          arm_kind: armKinds.get(`${benchmark}\u0000${c.arm}`) ?? c.arm,
          convention: a?.metrics.convention ?? '',
          option_orders: a?.option_orders ?? [],
          prompt: a?.prompt ?? null,
          n: c.n,
          both: c.both,
          only_arm: c.onlyArm,
          only_baseline: c.onlyBaseline,
          neither: c.neither,
          excluded: c.excluded,
          p: c.mcnemarP,
          p_adjusted: pAdjusted,
          winner,
        };
      }),
    });
  }
  return tables;
}
