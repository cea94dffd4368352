import type { RunSummary } from './summary.js';

/**
 * The summary of a run from the summaries of its benchmarks, each summarised on its own samples
 * (`summarise`): every figure of a summary is per benchmark (metrics and CIs, 2x2s, differences,
 * CircularEval, position bias, the headline's Holm family), so the run's lists are the benchmarks'
 * lists one after the other, in the order `parts` are given (the order of the benchmarks' first
 * samples), and the counts are sums. `failureCodes`: every failure code in the order of its first
 * failed sample in the run (the key order of `failures_by_code`).
 */
export function mergeSummaries(runId: string, parts: RunSummary[], failureCodes: string[], bootstrap: RunSummary['bootstrap']): RunSummary {
  const failures: Record<string, number> = {};
  for (const code of failureCodes) {
    let n = 0;
    for (const p of parts) n += p.failures_by_code[code] ?? 0;
    if (n > 0) failures[code] = n;
  }
  return {
    run_id: runId,
    samples: parts.reduce((n, p) => n + p.samples, 0),
    ok: parts.reduce((n, p) => n + p.ok, 0),
    failed: parts.reduce((n, p) => n + p.failed, 0),
    failures_by_code: failures,
    bootstrap,
    arms: parts.flatMap((p) => p.arms),
    comparisons: parts.flatMap((p) => p.comparisons),
    differences: parts.flatMap((p) => p.differences),
    circular_eval: parts.flatMap((p) => p.circular_eval),
    position_bias: parts.flatMap((p) => p.position_bias),
    headline: parts.flatMap((p) => p.headline),
  };
}
