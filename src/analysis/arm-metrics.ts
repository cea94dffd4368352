import type { BenchmarkMetrics } from '../benchmarks/benchmark-family.js';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import type { Sample } from '../store/sample.js';
import { groupSamples, itemFromSample, scoreMap } from './sample-items.js';

export interface ArmMetrics {
  benchmark: string;
  arm: string;
  model: string;
  prompt: string | null;
  items: number;
  failed: number;
  metrics: BenchmarkMetrics;
}

/**
 * The benchmark authors' metric per benchmark and arm. Failed items are excluded from the
 * metric (the family decides how, e.g. What'sUp pairs with a missing member) and counted apart.
 */
/** A metric that cannot be computed (e.g. items of an older run lacking a group) is reported, not fatal. */
function safeMetrics(compute: () => BenchmarkMetrics): BenchmarkMetrics {
  try {
    return compute();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { convention: 'error', source: '', n: 0, nMissing: 0, headline: [], details: { error: message } };
  }
}

export function computeArmMetrics(samples: Sample[], formats: Map<string, BenchmarkSpec['format']>): ArmMetrics[] {
  const out: ArmMetrics[] = [];
  for (const [benchmark, byArm] of groupSamples(samples)) {
    const format = formats.get(benchmark);
    if (!format) continue;
    const family = benchmarkFamily(format);
    for (const [arm, list] of byArm) {
      const items = list.map(itemFromSample);
      const first = list[0]!;
      out.push({
        benchmark,
        arm,
        model: first.model,
        prompt: first.prompt ? `${first.prompt.id}@v${first.prompt.version}` : null,
        items: list.length,
        failed: list.filter((s) => s.status === 'failed').length,
        metrics: safeMetrics(() => family.metrics(items, scoreMap(list))),
      });
    }
  }
  return out;
}
