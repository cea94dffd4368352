import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Arm } from '../models/arm.js';
import { type ErrorCode, errorMessage, type FailureReason, isPerceiveError, PerceiveError } from '../core/errors.js';
import { cropImage, itemCrop } from '../core/crop.js';
import { joinInsideDataDir } from '../core/data-path.js';
import { type LoadedImage, loadImage } from '../core/image.js';
import type { TaskFailure, TaskResult } from '../store/result-store.js';
import { type BundleJob, type BundleOutcome, resultTask } from './bundle-job.js';
import type { ModelRuntime } from './model-runtime.js';
import type { ArmIdentity, PlannedBundle } from './plan.js';

/** Who computed a result: host and process. */
export function workerName(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** Errors worth retrying the bundle for (with backoff): a crashed, hung or overloaded model server. */
export function isTransient(error: unknown): boolean {
  if (isPerceiveError(error)) return error.code === 'server-unreachable' || error.code === 'server-timeout';
  const status = (error as { status?: unknown })?.status;
  if (typeof status === 'number') return status >= 500;
  const code = (error as { code?: unknown })?.code;
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/** A bundle-level failure that must not be retried, with its reason code. */
export class BundleFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The code and message a failed bundle's tasks are recorded with. */
export function bundleFailureReason(error: unknown): FailureReason {
  if (error instanceof BundleFailure) return { code: error.code, message: error.message };
  if (error instanceof TransientBundleError)
    return isPerceiveError(error.cause) ? { code: error.cause.code, message: error.cause.message } : { code: 'transient', message: errorMessage(error.cause) };
  return isPerceiveError(error) ? { code: error.code, message: error.message } : { code: 'error', message: errorMessage(error) };
}

/** Raised between tasks when the worker is asked to stop; the finished tasks travel with it. */
export class StopRequested extends Error {
  constructor(readonly partial: BundleOutcome) {
    super('stop requested');
  }
}

/** A transient error, with the tasks finished before it (kept so a retry skips them). */
export class TransientBundleError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly partial: BundleOutcome,
  ) {
    super(`transient: ${errorMessage(cause)}`);
  }
}

export interface ExecutorEnv {
  runtime: ModelRuntime;
  /** This host's data root (PERCEIVE_DATA_DIR); undefined = the planning host's root from the job. */
  dataDir: string | undefined;
  /** Test-only delay before each task (PERCEIVE_TEST_TASK_DELAY_MS). */
  taskDelayMs: number;
  worker: string;
}

export interface ExecuteHooks {
  /** Tasks finished by an earlier attempt (job progress): not computed again. */
  previous?: BundleOutcome | undefined;
  /** Called after every finished task but the bundle's last with everything finished so far (saved as job progress). */
  onProgress?: (sofar: BundleOutcome) => Promise<void>;
  shouldStop?: () => boolean;
  onTaskDone?: (task: string, ms: number) => void;
}

/**
 * Where a bundle's image is on this host. Job data is untrusted (a shared Redis): a path that is
 * absolute, climbs out with `..`, or whose real path (symlinks resolved) leaves the data folder is
 * refused with a named reason, never opened.
 */
function localPath(job: BundleJob, rel: string, dataDir: string | undefined): string | PerceiveError {
  const root = dataDir ?? job.dataRoot;
  if (!path.isAbsolute(root)) return new PerceiveError('unsafe-path', `the job's data root ${JSON.stringify(root)} is not an absolute path`);
  const full = joinInsideDataDir(root, rel);
  if (typeof full !== 'string') return new PerceiveError('unsafe-path', `image path ${JSON.stringify(rel)} from job data ${full.reason}`);
  return full;
}

/**
 * Loads the bundle's images under this host's data root and checks their content hashes. A copy
 * whose hash differs fails the whole bundle (this host's data is not the plan's); a missing or
 * corrupt image is kept as its error, so only the tasks that need it fail.
 */
async function loadBundleImages(job: BundleJob, env: ExecutorEnv): Promise<Map<string, LoadedImage | PerceiveError>> {
  const out = new Map<string, LoadedImage | PerceiveError>();
  const { images } = job.bundle;
  // A few at a time: the decoding runs on libuv's threads, on cores the model leaves idle between bundles.
  for (let i = 0; i < images.length; i += IMAGE_LOADS_AT_ONCE) {
    const part = images.slice(i, i + IMAGE_LOADS_AT_ONCE);
    const loads = await Promise.all(part.map((image) => loadBundleImage(job, env, image.rel)));
    for (const [k, image] of part.entries()) {
      const loaded = loads[k]!;
      if (!(loaded instanceof PerceiveError) && loaded.sha256 !== image.sha256) {
        throw new BundleFailure(
          'image-hash-mismatch',
          `image ${image.rel} on worker ${env.worker} (${loaded.path}) has sha256 ${loaded.sha256}, the plan expects ${image.sha256}: this host's copy of the data differs`,
        );
      }
      // Arms see the planning host's path (samples and reports name that one).
      out.set(image.path, loaded instanceof PerceiveError ? loaded : { ...loaded, path: image.path });
    }
  }
  return out;
}

/** How many of a bundle's images are read and decoded at once. */
const IMAGE_LOADS_AT_ONCE = 4;

/** One image of the bundle under this host's data root, or why it cannot be used. */
async function loadBundleImage(job: BundleJob, env: ExecutorEnv, rel: string): Promise<LoadedImage | PerceiveError> {
  const file = localPath(job, rel, env.dataDir);
  if (file instanceof PerceiveError) return file;
  try {
    return await loadImage(file);
  } catch (error) {
    return isPerceiveError(error) ? error : new PerceiveError('bad-image', errorMessage(error));
  }
}

/** An item with a crop box (ARO's VG items: `meta.crop`) is answered on the cropped image. */
async function withCrop(item: BundleJob['bundle']['tasks'][number]['item'], images: LoadedImage[]): Promise<LoadedImage[]> {
  const box = itemCrop(item.meta, item.id);
  return box ? Promise.all(images.map((i) => cropImage(i, box))) : images;
}

function checkArm(arm: Arm, want: ArmIdentity, worker: string): void {
  const got = { id: arm.id, modelHash: arm.modelHash, prompt: arm.prompt ?? null, params: arm.params ?? null };
  const expected = { id: want.id, modelHash: want.modelHash, prompt: want.prompt, params: want.params ?? null };
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    throw new BundleFailure(
      'model-mismatch',
      `worker ${worker} computes ${JSON.stringify(got)} but the job asks for ${JSON.stringify(expected)} (different model file or code version)`,
    );
  }
}

/**
 * Runs one bundle: checks its images against their hashes, then its tasks in order, each one
 * producing a result (scores, extra, timings, raw answer) or a failure with its reason; an
 * exception of one task never escapes, except a transient one (the bundle is retried, keeping
 * what finished) or a bundle-wide input problem (BundleFailure). The same code serves queue
 * workers and the in-process mode.
 */
export async function executeBundle(job: BundleJob, env: ExecutorEnv, hooks: ExecuteHooks = {}): Promise<BundleOutcome> {
  const bundle: PlannedBundle = job.bundle;
  const outcome: BundleOutcome = {
    bundle: bundle.id,
    worker: env.worker,
    results: [...(hooks.previous?.results ?? [])],
    failures: [...(hooks.previous?.failures ?? [])],
  };
  const finished = new Set([...outcome.results.map((r) => resultTask(r)), ...outcome.failures.map((f) => f.task), ...(bundle.done ?? [])]);
  const todo = bundle.tasks.filter((t) => !finished.has(t.hash));
  if (todo.length === 0) return outcome;
  /** Tasks not finished yet (a set: checking it after each task stays linear in the bundle). */
  const left = new Set(todo.map((t) => t.hash));

  if (env.runtime.name !== bundle.model) {
    throw new BundleFailure('model-mismatch', `worker ${env.worker} serves model ${env.runtime.name}, the job is for ${bundle.model}`);
  }
  const arms = new Map<string, Arm>();
  for (const t of todo) {
    const key = JSON.stringify(t.arm.spec);
    if (!arms.has(key)) {
      const arm = env.runtime.arm(t.arm.spec);
      checkArm(arm, t.arm, env.worker);
      arms.set(key, arm);
    }
  }
  const images = await loadBundleImages(job, env);
  const imageOf = async (p: string): Promise<LoadedImage> => {
    const img = images.get(p);
    if (!img) throw new PerceiveError('bad-job', `image ${p} is not among the bundle's images`);
    if (img instanceof Error) throw img;
    return img;
  };
  // Batched work first (CLIP encodes the bundle's image and every caption in one go).
  // Every item of the bundle, done or not: pair-aware arms need both items of a pair even when one
  // of them was finished before (a resumed or retried bundle).
  for (const [key, arm] of arms) {
    const items = bundle.tasks.filter((t) => JSON.stringify(t.arm.spec) === key).map((t) => t.item);
    if (arm.prepare) await arm.prepare(items, imageOf);
  }

  for (const task of todo) {
    if (finished.has(task.hash)) continue; // the same question twice in one bundle
    if (hooks.shouldStop?.()) throw new StopRequested(outcome);
    if (env.taskDelayMs > 0) await sleep(env.taskDelayMs);
    const started = performance.now();
    const arm = arms.get(JSON.stringify(task.arm.spec))!;
    try {
      const loaded = await withCrop(task.item, await Promise.all(task.item.images.map(imageOf)));
      const output = await arm.score(task.item, loaded);
      const result: TaskResult = {
        task: task.hash,
        scores: output.scores,
        extra: output.extra,
        timings: output.timings ?? null,
        latencyMs: performance.now() - started,
        raw: JSON.stringify(output),
        worker: env.worker,
        finishedAt: new Date().toISOString(),
      };
      const expected = { rows: loaded.length, cols: task.item.options.length };
      if (!validScores(output.scores, expected.rows, expected.cols)) {
        throw new PerceiveError(
          'malformed-answer',
          `arm ${arm.id} returned a malformed score matrix (expected ${expected.rows}×${expected.cols} finite numbers): ${JSON.stringify(output.scores).slice(0, 200)}`,
        );
      }
      outcome.results.push(result);
    } catch (error) {
      if (isTransient(error)) throw new TransientBundleError(error, outcome);
      if (error instanceof BundleFailure) throw error;
      const failure: TaskFailure = {
        task: task.hash,
        code: isPerceiveError(error) ? error.code : 'error',
        message: errorMessage(error),
        worker: env.worker,
        failedAt: new Date().toISOString(),
      };
      outcome.failures.push(failure);
    }
    finished.add(task.hash);
    left.delete(task.hash);
    hooks.onTaskDone?.(task.hash, performance.now() - started);
    // After the bundle's last task the outcome travels as the job's return value instead.
    if (left.size > 0) await hooks.onProgress?.(outcome);
  }
  return outcome;
}

function validScores(scores: unknown, rows: number, cols: number): boolean {
  return (
    Array.isArray(scores) &&
    scores.length === rows &&
    scores.every((row) => Array.isArray(row) && row.length === cols && row.every((v) => typeof v === 'number' && Number.isFinite(v)))
  );
}
