import type { BenchmarkSpec } from '../config/experiment.js';
import type { Sample } from '../store/sample.js';
import { type ArmMetrics, computeArmMetrics } from './arm-metrics.js';
import { compareItems, type ItemComparison } from './item-comparison.js';

export interface RunSummary {
  run_id: string;
  samples: number;
  ok: number;
  failed: number;
  failures_by_code: Record<string, number>;
  arms: ArmMetrics[];
  comparisons: ItemComparison[];
}

export function summarise(runId: string, samples: Sample[], formats: Map<string, BenchmarkSpec['format']>, baseline: string): RunSummary {
  const failuresByCode: Record<string, number> = {};
  for (const s of samples) if (s.error) failuresByCode[s.error.code] = (failuresByCode[s.error.code] ?? 0) + 1;
  return {
    run_id: runId,
    samples: samples.length,
    ok: samples.filter((s) => s.status === 'ok').length,
    failed: samples.filter((s) => s.status === 'failed').length,
    failures_by_code: failuresByCode,
    arms: computeArmMetrics(samples, formats),
    comparisons: compareItems(samples, baseline),
  };
}
