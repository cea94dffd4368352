import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { errorMessage, isPerceiveError } from '../errors.js';
import type { ImageCache, LoadedImage } from '../items/image.js';
import type { Sample } from '../store/sample.js';
import type { Bundle, Task } from './plan.js';
import { taskHash } from './plan.js';

export interface ExecutionContext {
  runId: string;
  images: ImageCache;
  formats: Map<string, BenchmarkSpec['format']>;
  /** Called for each finished sample, before the next task starts. */
  onSample: (sample: Sample) => void;
}

function baseSample(ctx: ExecutionContext, task: Task): Omit<Sample, 'status' | 'scores' | 'prediction' | 'correct' | 'error' | 'latency_ms' | 'timings' | 'task' | 'images'> {
  const { item, arm } = task;
  return {
    run_id: ctx.runId,
    item: item.id,
    benchmark: item.benchmark,
    subset: item.subset,
    arm: arm.id,
    model: arm.model,
    model_hash: arm.modelHash,
    prompt: arm.prompt ?? null,
    options: item.options,
    correct_option: item.correct,
    extra: {},
    groups: item.groups,
    source: item.source,
    finished_at: new Date().toISOString(),
  };
}

/** A failed sample: the item's reason is recorded, it never counts as right or wrong. */
export function failedSample(ctx: ExecutionContext, task: Task, error: unknown, latencyMs = 0): Sample {
  const code = isPerceiveError(error) ? error.code : 'error';
  return {
    ...baseSample(ctx, task),
    task: taskHash({ modelHash: task.arm.modelHash, arm: task.arm.id, prompt: task.arm.prompt, imageHashes: [], options: task.item.options }),
    images: task.item.images.map((p) => ({ path: p, sha256: '' })),
    status: 'failed',
    scores: null,
    prediction: null,
    correct: null,
    error: { code, message: errorMessage(error) },
    latency_ms: latencyMs,
    timings: null,
  };
}

function validScores(scores: number[][], images: number, options: number): boolean {
  return scores.length === images && scores.every((row) => row.length === options && row.every((v) => Number.isFinite(v)));
}

/**
 * Runs one bundle's tasks in order, in this process. Each task ends as exactly one sample:
 * 'ok' with scores, or 'failed' with its reason; an exception never escapes a task.
 * The same code serves the in-process executor and (later) queue workers.
 */
export async function executeBundle(bundle: Bundle, ctx: ExecutionContext): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const task of bundle.tasks) {
    const started = performance.now();
    let sample: Sample;
    try {
      const images: LoadedImage[] = await Promise.all(task.item.images.map((p) => ctx.images.get(p)));
      const result = await task.arm.score(task.item, images);
      if (!validScores(result.scores, images.length, task.item.options.length)) {
        throw new Error(`arm ${task.arm.id} returned a malformed score matrix: ${JSON.stringify(result.scores)}`);
      }
      const format = ctx.formats.get(task.item.benchmark);
      if (!format) throw new Error(`no benchmark format for ${task.item.benchmark}`);
      const judged = benchmarkFamily(format).judge(task.item, result.scores);
      sample = {
        ...baseSample(ctx, task),
        task: taskHash({
          modelHash: task.arm.modelHash,
          arm: task.arm.id,
          prompt: task.arm.prompt,
          imageHashes: images.map((i) => i.sha256),
          options: task.item.options,
        }),
        images: images.map((i) => ({ path: i.path, sha256: i.sha256 })),
        status: 'ok',
        scores: result.scores,
        prediction: judged.prediction,
        correct: judged.correct,
        extra: result.extra,
        error: null,
        latency_ms: performance.now() - started,
        timings: result.timings ?? null,
      };
    } catch (error) {
      sample = failedSample(ctx, task, error, performance.now() - started);
    }
    ctx.onSample(sample);
    out.push(sample);
  }
  return out;
}
