import { createHash } from 'node:crypto';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import type { Item } from '../core/item.js';
import type { ResultStore } from '../store/result-store.js';
import type { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import type { ArmIdentity, PlannedTask } from '../execution/plan.js';
import { writeArrayFiles } from './array-files.js';

/** A task that failed before it could be queued (a row that failed validation, an unreadable image). */
export interface PlanFailure {
  item: Item;
  arm: ArmIdentity;
  code: string;
  message: string;
}

function base(
  runId: string,
  item: Item,
  arm: ArmIdentity,
): Omit<Sample, 'task' | 'images' | 'status' | 'scores' | 'prediction' | 'correct' | 'error' | 'latency_ms' | 'timings' | 'finished_at'> {
  return {
    run_id: runId,
    item: item.id,
    benchmark: item.benchmark,
    subset: item.subset,
    arm: arm.id,
    arm_kind: arm.spec.arm,
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
 * Writes samples.jsonl from the store: one line per planned item × arm, in arm then item order
 * (each arm's plan failures after its tasks), `ok` with scores judged by the benchmark's rule, or
 * `failed` with the stored reason. Tasks with neither (a run stopped early) are left out. The
 * file is replaced atomically and written line by line: no sample is kept in memory (a run of
 * any size exports in constant memory; read them back with `RunDirectory.readSamples`).
 */
export function exportSamples(args: {
  run: RunDirectory;
  tasks: PlannedTask[];
  imageHashes: Map<string, string>;
  planFailures: PlanFailure[];
  store: ResultStore;
  formats: Map<string, BenchmarkSpec['format']>;
  arms: ArmIdentity[];
}): { count: number; missing: number } {
  const { run, store } = args;
  const armOrder = new Map(args.arms.map((a, k) => [JSON.stringify(a.spec), k]));
  const armOf = (spec: unknown): number => armOrder.get(JSON.stringify(spec)) ?? 0;
  const taskArm = args.tasks.map((t) => armOf(t.arm.spec));
  const failureArm = args.planFailures.map((f) => armOf(f.arm.spec));
  let missing = 0;

  /** What every sample of an item × arm starts with: its identity, the task and its images. */
  const head = (item: Item, arm: ArmIdentity, task: string) => ({
    ...base(run.runId, item, arm),
    task,
    images: item.images.map((p) => ({ path: p, sha256: args.imageHashes.get(p) ?? '' })),
  });
  const failed = (item: Item, arm: ArmIdentity, task: string, error: { code: string; message: string }, finishedAt: string): Sample => ({
    ...head(item, arm, task),
    status: 'failed',
    scores: null,
    prediction: null,
    correct: null,
    error,
    latency_ms: 0,
    timings: null,
    finished_at: finishedAt,
  });

  function taskSample(task: PlannedTask): Sample | undefined {
    const result = store.get(task.hash);
    if (result) {
      const format = args.formats.get(task.item.benchmark);
      if (!format) throw new Error(`unreachable: no benchmark format for ${task.item.benchmark}`);
      const judged = benchmarkFamily(format).judge(task.item, result.scores);
      return {
        ...head(task.item, task.arm, task.hash),
        status: 'ok',
        scores: result.scores,
        prediction: judged.prediction,
        correct: judged.correct,
        extra: writeArrayFiles(run, task.item.id, task.arm.id, result.extra),
        error: null,
        latency_ms: result.latencyMs,
        timings: result.timings,
        finished_at: result.finishedAt,
      };
    }
    const failure = store.failure(task.hash);
    if (!failure) {
      missing++;
      return undefined;
    }
    return failed(task.item, task.arm, task.hash, { code: failure.code, message: failure.message }, failure.failedAt);
  }

  function planFailureSample(f: PlanFailure): Sample {
    const hash = createHash('sha256')
      .update(JSON.stringify(['plan-failure', f.item.id, f.item.source, f.arm.id, f.arm.modelHash]))
      .digest('hex');
    return failed(f.item, f.arm, hash, { code: f.code, message: f.message }, new Date().toISOString());
  }

  function* lines(): Generator<string> {
    const armCount = Math.max(1, args.arms.length);
    for (let k = 0; k < armCount; k++) {
      for (let i = 0; i < args.tasks.length; i++) {
        if (taskArm[i] !== k) continue;
        const sample = taskSample(args.tasks[i]!);
        if (sample) yield `${JSON.stringify(sample)}\n`;
      }
      for (let i = 0; i < args.planFailures.length; i++) {
        if (failureArm[i] === k) yield `${JSON.stringify(planFailureSample(args.planFailures[i]!))}\n`;
      }
    }
  }

  const count = run.writeLinesAtomic('samples.jsonl', lines());
  return { count, missing };
}
