import { createHash } from 'node:crypto';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import type { Item } from '../items/item.js';
import type { ResultStore } from '../store/result-store.js';
import type { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import type { ArmIdentity, PlannedTask } from './plan.js';

/** A task that failed before it could be queued (a row that failed validation, an unreadable image). */
export interface PlanFailure {
  item: Item;
  arm: ArmIdentity;
  code: string;
  message: string;
}

function base(runId: string, item: Item, arm: ArmIdentity): Omit<Sample, 'task' | 'images' | 'status' | 'scores' | 'prediction' | 'correct' | 'error' | 'latency_ms' | 'timings' | 'finished_at'> {
  return {
    run_id: runId,
    item: item.id,
    benchmark: item.benchmark,
    subset: item.subset,
    arm: arm.id,
    model: arm.model,
    model_hash: arm.modelHash,
    prompt: arm.prompt,
    options: item.options,
    correct_option: item.correct,
    extra: {},
    groups: item.groups,
    source: item.source,
  };
}

/**
 * Writes samples.jsonl from the store: one line per planned item × arm, in arm then item order,
 * `ok` with scores judged by the benchmark's rule, or `failed` with the stored reason. Tasks with
 * neither (a run stopped early) are left out. The file is replaced atomically.
 */
export function exportSamples(args: {
  run: RunDirectory;
  tasks: PlannedTask[];
  imageHashes: Map<string, string>;
  planFailures: PlanFailure[];
  store: ResultStore;
  formats: Map<string, BenchmarkSpec['format']>;
  arms: ArmIdentity[];
}): { samples: Sample[]; missing: number } {
  const { run, store } = args;
  const samples: Sample[] = [];
  let missing = 0;
  const armOrder = new Map(args.arms.map((a, k) => [JSON.stringify(a.spec), k]));
  const rows: Array<{ order: number; sample: Sample }> = [];
  let seq = 0;
  for (const task of args.tasks) {
    const images = task.item.images.map((p) => ({ path: p, sha256: args.imageHashes.get(p) ?? '' }));
    const result = store.get(task.hash);
    let sample: Sample | undefined;
    if (result) {
      const format = args.formats.get(task.item.benchmark);
      if (!format) throw new Error(`unreachable: no benchmark format for ${task.item.benchmark}`);
      const judged = benchmarkFamily(format).judge(task.item, result.scores);
      sample = {
        ...base(run.runId, task.item, task.arm),
        task: task.hash,
        images,
        status: 'ok',
        scores: result.scores,
        prediction: judged.prediction,
        correct: judged.correct,
        extra: result.extra,
        error: null,
        latency_ms: result.latencyMs,
        timings: result.timings,
        finished_at: result.finishedAt,
      };
    } else {
      const failure = store.failure(task.hash);
      if (failure) {
        sample = {
          ...base(run.runId, task.item, task.arm),
          task: task.hash,
          images,
          status: 'failed',
          scores: null,
          prediction: null,
          correct: null,
          error: { code: failure.code, message: failure.message },
          latency_ms: 0,
          timings: null,
          finished_at: failure.failedAt,
        };
      } else missing++;
    }
    if (sample) rows.push({ order: (armOrder.get(JSON.stringify(task.arm.spec)) ?? 0) * 1e9 + seq++, sample });
  }
  for (const f of args.planFailures) {
    const hash = createHash('sha256').update(JSON.stringify(['plan-failure', f.item.id, f.item.source, f.arm.id, f.arm.modelHash])).digest('hex');
    rows.push({
      order: (armOrder.get(JSON.stringify(f.arm.spec)) ?? 0) * 1e9 + seq++,
      sample: {
        ...base(run.runId, f.item, f.arm),
        task: hash,
        images: f.item.images.map((p) => ({ path: p, sha256: args.imageHashes.get(p) ?? '' })),
        status: 'failed',
        scores: null,
        prediction: null,
        correct: null,
        error: { code: f.code, message: f.message },
        latency_ms: 0,
        timings: null,
        finished_at: new Date().toISOString(),
      },
    });
  }
  rows.sort((a, b) => a.order - b.order);
  for (const r of rows) samples.push(r.sample);
  run.writeFileAtomic('samples.jsonl', samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
  return { samples, missing };
}
