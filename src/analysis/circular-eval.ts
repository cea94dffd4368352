import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import type { Sample } from '../store/sample.js';
import { optionOrderRecord } from './option-order-extra.js';
import { groupSamples, itemFromSample } from './sample-items.js';

/**
 * MMBench's CircularEval (Liu et al., "MMBench", ECCV 2024, §3.1; open-compass/VLMEvalKit
 * `circular` evaluation): an item counts right only if it is right under every rotation of its
 * options. Each rotation's scores (recorded in the file's order, `extra.round_scores`) are judged
 * by the benchmark family's own rule (`judge`), so "right" means what it means in the authors'
 * metric for one item. Reported beside the authors' metric on the de-permuted (averaged) scores.
 */
export interface CircularEvalFigure {
  benchmark: string;
  arm: string;
  option_order: 'circular';
  /** Items answered under every rotation. */
  n: number;
  /** Items right under every rotation. */
  correct: number;
  value: number | null;
  /** Items right under rotation 0 (the file's order) alone, for comparison. */
  correct_file_order: number;
}

export function circularEval(samples: Sample[], formats: Map<string, BenchmarkSpec['format']>): CircularEvalFigure[] {
  const out: CircularEvalFigure[] = [];
  for (const [benchmark, byArm] of groupSamples(samples)) {
    const format = formats.get(benchmark);
    if (!format) continue;
    const family = benchmarkFamily(format);
    for (const [arm, list] of byArm) {
      let n = 0;
      let correct = 0;
      let correctFileOrder = 0;
      for (const s of list) {
        const r = optionOrderRecord(s);
        if (r?.option_order !== 'circular') continue;
        const item = itemFromSample(s);
        const judged = r.round_scores.map((m) => family.judge(item, m).correct);
        n += 1;
        if (judged.every(Boolean)) correct += 1;
        if (judged[0]) correctFileOrder += 1;
      }
      if (n > 0) out.push({ benchmark, arm, option_order: 'circular', n, correct, value: correct / n, correct_file_order: correctFileOrder });
    }
  }
  return out;
}
