import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LoadFailure } from '../benchmarks/benchmark-family.js';
import { benchmarkFamily } from '../benchmarks/registry.js';
import { realPathOutsideReason } from '../core/data-path.js';
import type { BenchmarkSpec, LoadedConfig } from '../config/experiment.js';
import type { Environment } from '../core/environment.js';
import { errorMessage, isPerceiveError, PerceiveError } from '../core/errors.js';
import { SmallFileHasher } from '../core/file-hash.js';
import type { Item } from '../core/item.js';
import { stampOptionOrder } from '../core/option-order.js';
import type { HostTools } from '../models/model-kind.js';
import { modelKind } from '../models/registry.js';
import { ResultStore, type TaskFailure } from '../store/result-store.js';
import { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import { armIdentities } from '../execution/arm-identity.js';
import { type BundleJob, type BundleOutcome, JOB_VERSION, resultTask } from '../execution/bundle-job.js';
import {
  connectRedis,
  drainFinished,
  enqueueBundles,
  jobsExist,
  keysExist,
  openQueue,
  queueName,
  readOrphan,
  redactUrl,
  returnJobsOfDeadWorker,
} from '../execution/bullmq/bundle-queue.js';
import { bundleFailureReason, type ExecutorEnv, executeBundle, StopRequested, TransientBundleError, workerName } from '../execution/bundle-executor.js';
import { describeExit, LocalWorkers, type WorkerDeath } from '../execution/bullmq/local-workers.js';
import { coreBudgetVerdict } from '../execution/core-budget.js';
import { RedisWatch } from '../execution/bullmq/redis-watch.js';
import { heldKey, orphanKey } from '../execution/bullmq/redis-keys.js';
import { checkEvictionPolicy, type EvictionPolicyCheck, muteBullmqEvictionWarning } from '../execution/bullmq/redis-policy.js';
import { fatalRunError } from './fatal-error.js';
import { importOrphanFiles } from '../execution/orphan-files.js';
import { buildManifest } from './manifest.js';
import { OpenBundles } from './open-bundles.js';
import { BAD_ROWS_SHOWN, badRowLines } from './bad-rows.js';
import { type ModelInfo, ModelRuntime, runtimeCount } from '../execution/model-runtime.js';
import { type ArmIdentity, commonRoot, mergeBundles, type PlannedBundle, type PlannedTask, planBundles, todoTasks, withoutTasks } from '../execution/plan.js';
import { runLogger } from '../core/run-log.js';
import { exportSamples, type PlanFailure } from './sample-export.js';
import { backoffDelay, retryPolicy, shouldRetry } from '../execution/retry-policy.js';
import { heapMb, StageClock } from './stage-clock.js';

/** `auto`: the queue when Redis answers, else in-process; `redis`: the queue or an error; `inline`: in-process. */
export type QueueMode = 'auto' | 'redis' | 'inline';

export interface QueueProgress {
  model: string;
  /** Tasks of this run finished (stored or failed), including those found in the store at start. */
  done: number;
  failed: number;
  total: number;
  /** Of `done`, how many were already in the store when this session started (excluded from the rate). */
  reused: number;
  elapsedMs: number;
}

export interface RunOptions {
  runId?: string;
  /** Continue an existing run directory (its run id); the store says what is left. */
  resume?: boolean;
  queue?: QueueMode;
  /** Local workers started per model in queue mode (0 when remote workers serve the queues). */
  workers?: number;
  onProgress?: (p: QueueProgress[]) => void;
  /** Readable console lines; the first one says whether the run uses the queue or runs in-process. */
  onMessage?: (line: string) => void;
  /** Aborting stops cleanly: workers put their bundle back after the current task; nothing is lost. */
  signal?: AbortSignal;
  /**
   * The `perceive` entry local workers run. Default: the CLI this module belongs to (the compiled
   * one when this is `dist/`; tsx's loader on the sources when it runs from the sources).
   */
  workerEntry?: string;
}

export interface RunResult {
  run: RunDirectory;
  /** samples.jsonl, read (and validated) on first access: the run process does not hold them. */
  readonly samples: Sample[];
  /** Lines written to samples.jsonl. */
  sampleCount: number;
  wallMs: number;
  loadFailures: number;
  mode: 'queue' | 'inline';
  /** True when the run was stopped before every task finished (resume it). */
  stopped: boolean;
  /** Tasks computed in this session, and tasks found in the store. */
  computed: number;
  reused: number;
}

export function defaultRunId(name: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${name}-${t}`;
}

/** An item that could not be loaded (bad row): a placeholder so it is reported. */
function failedRowItem(spec: BenchmarkSpec, f: LoadFailure): Item {
  return {
    id: `${spec.name}/${f.source.row}`,
    benchmark: spec.name,
    subset: spec.subset,
    images: [],
    options: [],
    correct: 0,
    groups: {},
    source: f.source,
    meta: {},
  };
}

/**
 * Hashes every image once. An image whose real path (symlinks resolved) leaves its benchmark's
 * data dir is never read: it is recorded as unreadable with the reason, and its items fail.
 */
async function hashImages(items: Item[], dataDirs: Map<string, string>): Promise<{ hashes: Map<string, string>; unreadable: Map<string, string> }> {
  const hashes = new Map<string, string>();
  const unreadable = new Map<string, string>();
  const dirOf = new Map<string, string | undefined>();
  const hasher = new SmallFileHasher();
  for (const i of items) for (const f of i.images) if (!dirOf.has(f)) dirOf.set(f, dataDirs.get(i.benchmark));
  for (const [file, dir] of dirOf) {
    const outside = dir === undefined ? undefined : realPathOutsideReason(dir, file);
    if (outside !== undefined) {
      unreadable.set(file, `refused image: ${outside}`);
      continue;
    }
    try {
      hashes.set(file, await hasher.sha256(file));
    } catch (error) {
      unreadable.set(file, `cannot read image ${file}: ${errorMessage(error)}`);
    }
  }
  return { hashes, unreadable };
}

/**
 * Loads every benchmark, each item stamped with its benchmark's option order and seed. Its own
 * function: a benchmark's set as loaded (its items before stamping) is garbage once this returns
 * (kept in the run's frame, the last benchmark's unstamped items stayed alive for the whole run).
 */
async function loadBenchmarks(
  specs: BenchmarkSpec[],
  run: RunDirectory,
  say: (line: string) => void,
): Promise<{ items: Item[]; loadFailures: Array<{ spec: BenchmarkSpec; failure: LoadFailure }> }> {
  const items: Item[] = [];
  const loadFailures: Array<{ spec: BenchmarkSpec; failure: LoadFailure }> = [];
  for (const spec of specs) {
    const family = benchmarkFamily(spec.format);
    const set = await family.load(spec);
    say(`${spec.name}: ${set.items.length} items from ${spec.annotations}${set.failures.length ? `, ${set.failures.length} bad rows` : ''}`);
    // The benchmark's option order (config, else the family's default) and its seed travel on the item: letter arms resolve their order per item.
    // One at a time: spreading a benchmark of 100,000 items into push() overflows the call stack.
    for (const i of set.items) items.push(stampOptionOrder(i, spec.option_order ?? family.defaultOptionOrder ?? 'circular', spec.seed));
    for (const failure of set.failures) loadFailures.push({ spec, failure });
    // Many bad rows: counts per reason and the first few on the console, all of them in bad-rows.jsonl.
    for (const line of badRowLines(set.failures, run.file('bad-rows.jsonl'))) say(line);
  }
  return { items, loadFailures };
}

/**
 * Tracks which of the run's tasks are finished, per model: the pending tasks (hash → model, each
 * deleted once stored or failed, so the map shrinks as the run goes) and counts. Nothing is kept
 * per finished task.
 */
class Tally {
  private readonly pending = new Map<string, string>();
  private readonly counts = new Map<string, { total: number; pending: number; failed: number; reused: number }>();
  private readonly finishedAt = new Map<string, number>();
  computed = 0;

  constructor(tasks: PlannedTask[], done: Set<string>) {
    // A task planned twice (the same question in two bundles) counts once.
    const seen = new Set<string>();
    for (const t of tasks) {
      const m = t.arm.model;
      let c = this.counts.get(m);
      if (!c) this.counts.set(m, (c = { total: 0, pending: 0, failed: 0, reused: 0 }));
      if (seen.has(t.hash)) continue;
      seen.add(t.hash);
      c.total++;
      if (done.has(t.hash)) c.reused++;
      else {
        c.pending++;
        this.pending.set(t.hash, m);
      }
    }
  }

  /** The model of a pending task, which is no longer pending; undefined when it was not. */
  private take(task: string): { total: number; pending: number; failed: number; reused: number } | undefined {
    const m = this.pending.get(task);
    if (m === undefined) return undefined;
    this.pending.delete(task);
    const c = this.counts.get(m)!;
    c.pending--;
    return c;
  }

  stored(task: string): void {
    if (this.take(task)) this.computed++;
  }

  /** A task another run process stored meanwhile: done, but counted as reused, not computed here. */
  storedElsewhere(task: string): void {
    const c = this.take(task);
    if (c) c.reused++;
  }

  failed(task: string): void {
    const c = this.take(task);
    if (c) c.failed++;
  }

  remaining(model?: string): number {
    if (model) return this.counts.get(model)?.pending ?? 0;
    return this.pending.size;
  }

  /** Whether a task is still pending (neither stored nor failed). */
  isPending(task: string): boolean {
    return this.pending.has(task);
  }

  reused(): number {
    return [...this.counts.values()].reduce((a, c) => a + c.reused, 0);
  }

  /** Per queue; a finished queue's clock stops, so its rate stays what it was. */
  progress(elapsedMs: number): QueueProgress[] {
    return [...this.counts].map(([model, c]) => {
      if (c.pending === 0 && !this.finishedAt.has(model)) this.finishedAt.set(model, elapsedMs);
      return {
        model,
        total: c.total,
        done: c.total - c.pending,
        failed: c.failed,
        reused: c.reused,
        elapsedMs: this.finishedAt.get(model) ?? elapsedMs,
      };
    });
  }
}

/**
 * Runs a config: loads the benchmarks, hashes every image, plans bundles, skips every task the
 * store already holds, and executes the rest either on BullMQ (one queue per model, workers as
 * processes here or on other hosts) or in this process through the same worker code. Results
 * go into the store (results/cache.sqlite) and samples.jsonl is exported from it.
 */
export async function runExperiment(loaded: LoadedConfig, env: Environment, tools: HostTools, options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const { config } = loaded;
  const say = options.onMessage ?? (() => {});
  const perModel = options.workers ?? 1;
  // --workers 0: workers on other hosts serve the queues, so the run needs the queue (never silently in-process).
  if (perModel === 0 && options.queue === 'inline')
    throw new PerceiveError('bad-usage', '--workers 0 (workers on other hosts) needs the queue; it cannot run with --queue inline');
  const mode: QueueMode = perModel === 0 ? 'redis' : (options.queue ?? 'auto');

  // The first line says how the run executes.
  let redis: Redis | undefined;
  let policy: EvictionPolicyCheck | undefined;
  if (mode !== 'inline') {
    try {
      redis = await connectRedis(env.redisUrl, { probe: true });
      say(`queue: BullMQ on ${redactUrl(env.redisUrl)} (prefix "${config.queue.prefix}", one queue per model)`);
      // BullMQ needs noeviction: said once here (and in log.jsonl below), BullMQ's own repeats muted.
      policy = await checkEvictionPolicy(redis);
      muteBullmqEvictionWarning();
      if (policy.warning) say(policy.warning);
    } catch (error) {
      // A refused password is a mistake to fix, not a reason to compute in-process.
      if (isPerceiveError(error) && error.code === 'redis-auth-failed') throw error;
      if (perModel === 0 && isPerceiveError(error)) {
        throw new PerceiveError(error.code, `--workers 0 needs the queue (workers on other hosts serve it): ${error.message}`, {
          hint: 'start Redis or fix REDIS_URL; run with --workers 1 or more to compute on this host',
        });
      }
      if (mode === 'redis') throw error;
      say(`executing in-process: no Redis reachable at ${redactUrl(env.redisUrl)} (start Redis or set REDIS_URL to use the queue)`);
    }
  } else say('executing in-process (--queue inline)');

  const wantedId = options.runId ?? defaultRunId(config.name);
  let run = new RunDirectory(config.output, wantedId);
  const resumeCommandOf = (r: RunDirectory): string =>
    `perceive run --resume ${r.dir}${perModel === 0 ? ' --workers 0' : perModel !== 1 ? ` --workers ${perModel}` : ''}${options.queue === 'redis' ? ' --queue redis' : ''}`;
  let resumeCommand = resumeCommandOf(run);
  // A fatal error is named (disk full, unwritable output) and never leaves the Redis connection open.
  const fatal = (error: unknown, resume: boolean): unknown =>
    fatalRunError(error, { output: config.output, store: path.join(config.output, 'cache.sqlite'), resume: resume ? resumeCommand : undefined });
  let log: Logger;
  let store: ResultStore;
  try {
    if (options.resume) {
      await fs.access(run.file('manifest.json')).catch(() => {
        throw new PerceiveError('no-such-run', `cannot resume ${wantedId}: ${run.dir} has no manifest.json`);
      });
      run.create();
    } else {
      // One run, one folder: created exclusively, another id when it exists.
      run = RunDirectory.createExclusive(config.output, wantedId);
      resumeCommand = resumeCommandOf(run);
      if (run.runId !== wantedId) say(`run folder ${wantedId} exists: this run is ${run.runId}`);
    }
    log = runLogger(run.file('log.jsonl'), { run: run.runId, role: 'run' });
    log.info(
      {
        mode: redis ? 'queue' : 'inline',
        redis: redactUrl(env.redisUrl),
        resume: Boolean(options.resume),
        heapMb: heapMb(),
      },
      'run started',
    );
    if (policy?.warning) log.warn({ maxmemoryPolicy: policy.policy, required: 'noeviction' }, policy.warning);
    store = ResultStore.open(config.output);
    // What local workers kept on disk when they were stopped without Redis.
    const orphans = importOrphanFiles(run.dir, store);
    if (orphans.stored.length > 0) say(`${orphans.stored.length} tasks finished before Redis went away stored from ${run.file('orphans')}`);
    for (const file of orphans.skipped) say(`  unreadable, left as it is: ${file}`);
  } catch (error) {
    redis?.disconnect();
    throw fatal(error, false);
  }
  const runId = run.runId;
  // Local workers start now, so their start-up (a process, its modules, the model) overlaps the
  // loading, hashing and planning below; a model left with nothing to compute has its workers
  // stopped once the plan is known. A worker that dies is restarted (bounded); the queue loop
  // handles its deaths.
  const deaths: WorkerDeath[] = [];
  const workers =
    redis && perModel > 0
      ? new LocalWorkers(perModel, {
          configFile: loaded.file,
          logFile: run.file('log.jsonl'),
          log,
          restarts: config.queue.worker_restarts,
          onDeath: (d) => deaths.push(d),
          ...(options.workerEntry ? { entry: options.workerEntry } : {}),
        })
      : undefined;
  for (const model of new Set(config.arms.map((a) => a.model))) workers?.start(model);
  try {
    const formats = new Map(config.benchmarks.map((b) => [b.name, b.format] as const));
    const stage = new StageClock();
    const { items, loadFailures } = await loadBenchmarks(config.benchmarks, run, say);
    if (loadFailures.length > BAD_ROWS_SHOWN) {
      run.writeLinesAtomic(
        'bad-rows.jsonl',
        loadFailures.map(
          ({ spec, failure }) => `${JSON.stringify({ benchmark: spec.name, file: failure.source.file, row: failure.source.row, reason: failure.reason })}\n`,
        ),
      );
    }
    stage.done(log, 'benchmarks loaded', {
      items: items.length,
      badRows: loadFailures.length,
    });
    const arms = await armIdentities(config, env);
    const { hashes: imageHashes, unreadable } = await hashImages(items, new Map(config.benchmarks.map((b) => [b.name, b.data_dir] as const)));
    stage.done(log, 'images hashed', {
      images: imageHashes.size,
      unreadable: unreadable.size,
    });
    // A benchmark's `arms` (ids) limit which arms run on its items.
    const armsOf = new Map(config.benchmarks.filter((b) => b.arms).map((b) => [b.name, new Set(b.arms)] as const));
    const admits = (benchmark: string, arm: ArmIdentity): boolean => armsOf.get(benchmark)?.has(arm.id) ?? true;
    const planFailures: PlanFailure[] = [];
    for (const { spec, failure } of loadFailures) {
      for (const arm of arms)
        if (admits(spec.name, arm)) planFailures.push({ item: failedRowItem(spec, failure), arm, code: 'bad-row', message: failure.reason });
    }
    const plannable = items.filter((i) => {
      const bad = i.images.find((p) => unreadable.has(p));
      if (bad) for (const arm of arms) if (admits(i.benchmark, arm)) planFailures.push({ item: i, arm, code: 'bad-image', message: unreadable.get(bad)! });
      return !bad;
    });
    const dataRoot = env.dataDir ?? commonRoot(config.benchmarks.map((b) => b.data_dir));
    const bundles = mergeBundles(
      planBundles({ items: plannable, arms, imageHashes, dataRoot, seed: config.seed, namespace: store.file, admits: (i, a) => admits(i.benchmark, a) }),
      config.queue.min_bundle_tasks,
    );
    const tasks = bundles.flatMap((b) => b.tasks);
    // Results other run processes store from now on are found from here (the store scan below).
    const storeCursor = store.storedCursor();
    const done = store.has(tasks.map((t) => t.hash));
    const tally = new Tally(tasks, done);
    const pending = bundles.map((b) => withoutTasks(b, done)).filter((b): b is PlannedBundle => b !== undefined);
    const models: ModelInfo[] = [...new Map(arms.map((a) => [a.model, a])).values()].map((a) => {
      const m = config.models[a.model]!;
      const kind = modelKind(m.kind);
      return { name: a.model, kind: m.kind, files: kind.files(m), hash: a.modelHash, ...kind.describe?.(m) };
    });
    const execution = {
      mode: redis ? 'queue' : 'inline',
      redis: redis ? redactUrl(env.redisUrl) : null,
      prefix: config.queue.prefix,
      data_root: dataRoot,
      store: store.file,
    };
    run.writeJson('manifest.json', await buildManifest({ loaded, env, tools, models, arms, items, runId, execution }));
    say(
      `${tasks.length} tasks in ${bundles.length} bundles; ${done.size} already in the store, ${tally.remaining()} to compute in ${pending.length} bundles (data root ${dataRoot})`,
    );
    stage.done(log, 'planned', {
      tasks: tasks.length,
      bundles: bundles.length,
      stored: done.size,
      pendingBundles: pending.length,
      dataRoot,
    });

    const ctx: ExecCtx = { loaded, env, tools, run, runId, dataRoot, store, storeCursor, tally, log, say, started, options, deaths, resumeCommand };
    let stopped = false;
    if (pending.length > 0) {
      stopped = redis ? await runQueued(ctx, redis, pending, workers) : await runInline(ctx, pending);
    }
    options.onProgress?.(tally.progress(Date.now() - started));
    stage.restart();
    const exported = exportSamples({ run, tasks, imageHashes, planFailures, store, formats, arms });
    log.info({ samples: exported.count, ...stage.elapsed() }, 'samples exported');
    log.info(
      { samples: exported.count, missing: exported.missing, computed: tally.computed, reused: tally.reused(), stopped },
      stopped ? 'run stopped' : 'run finished',
    );
    let samples: Sample[] | undefined;
    return {
      run,
      sampleCount: exported.count,
      get samples() {
        return (samples ??= run.readSamples());
      },
      wallMs: Date.now() - started,
      loadFailures: loadFailures.length,
      mode: redis ? 'queue' : 'inline',
      stopped,
      computed: tally.computed,
      reused: tally.reused(),
    };
  } catch (error) {
    throw fatal(error, true);
  } finally {
    await workers?.stop();
    store.close();
    redis?.disconnect();
    log.flush();
  }
}

interface ExecCtx {
  loaded: LoadedConfig;
  env: Environment;
  tools: HostTools;
  run: RunDirectory;
  runId: string;
  dataRoot: string;
  store: ResultStore;
  /** Where the store scan for results stored by other run processes starts (`ResultStore.storedSince`). */
  storeCursor: number;
  tally: Tally;
  log: Logger;
  say: (line: string) => void;
  started: number;
  options: RunOptions;
  /** Local workers that died, in order; the queue loop handles them. */
  deaths: WorkerDeath[];
  /** The exact command that resumes this run. */
  resumeCommand: string;
}

function jobOf(ctx: ExecCtx, bundle: PlannedBundle): BundleJob {
  return { v: JOB_VERSION, runId: ctx.runId, dataRoot: ctx.dataRoot, bundle } as BundleJob;
}

function record(ctx: ExecCtx, results: unknown[], failures: TaskFailure[]): void {
  const put = ctx.store.put(results, failures);
  for (const r of results) {
    const task = resultTask(r);
    if (!put.rejected.some((f) => f.task === task)) ctx.tally.stored(task);
  }
  for (const f of [...failures, ...put.rejected]) ctx.tally.failed(f.task);
}

/**
 * In-process: each model's runners started here (several with llama's `servers`), its bundles run
 * `slots` at a time on each, with retries; a bundle stays on the runner whose lane took it.
 */
async function runInline(ctx: ExecCtx, pending: PlannedBundle[]): Promise<boolean> {
  const { config } = ctx.loaded;
  const worker = workerName();
  const policy = retryPolicy(config.queue);
  const owner = `${worker}/${randomUUID().slice(0, 8)}`;
  const claimTtl = config.queue.lock_ms;
  let stopped = false;
  const byModel = new Map<string, PlannedBundle[]>();
  for (const b of pending) byModel.set(b.model, [...(byModel.get(b.model) ?? []), b]);
  const report = (): void => ctx.options.onProgress?.(ctx.tally.progress(Date.now() - ctx.started));
  await Promise.all(
    [...byModel].map(async ([model, list]) => {
      ctx.say(`starting model ${model}…`);
      const runtimes = await ModelRuntime.startAll(model, config.models[model]!, ctx.env, ctx.tools, ctx.run.dir, ctx.log);
      try {
        // Tasks are claimed in the store before they are computed: another run over the same store
        // skips them and waits for their results (or takes them over once the claim expires).
        const work = [...list];
        const waiting: PlannedBundle[] = [];
        const next = async (): Promise<PlannedBundle | undefined> => {
          for (;;) {
            if (ctx.options.signal?.aborted) return undefined;
            const bundle = work.shift();
            if (!bundle) {
              if (waiting.length === 0) return undefined;
              await sleep(CLAIM_POLL_MS);
              // What the other run finished meanwhile is counted; the rest is tried again.
              for (const b of waiting.splice(0)) {
                const todo = todoTasks(b).map((t) => t.hash);
                const finished = new Set(ctx.store.has(todo));
                for (const t of finished) ctx.tally.storedElsewhere(t);
                for (const t of todo) {
                  const f = finished.has(t) ? undefined : ctx.store.failure(t);
                  if (f && Date.parse(f.failedAt) >= ctx.started) {
                    ctx.tally.failed(t);
                    finished.add(t);
                  }
                }
                const left = withoutTasks(b, finished);
                if (left) work.push(left);
              }
              continue;
            }
            const todo = todoTasks(bundle).map((t) => t.hash);
            const mine = new Set(ctx.store.claim(todo, owner, claimTtl));
            if (mine.size === 0) {
              waiting.push(bundle);
              continue;
            }
            if (mine.size < todo.length) {
              waiting.push(withoutTasks(bundle, mine)!);
              return withoutTasks(bundle, new Set(todo.filter((t) => !mine.has(t))))!;
            }
            return bundle;
          }
        };
        /** `server`: which of the model's runners (logged when there are several). */
        const lane = async (execEnv: ExecutorEnv, server: number | undefined): Promise<void> => {
          for (let bundle = await next(); bundle; bundle = await next()) {
            try {
              await runOne(bundle, execEnv, server);
            } finally {
              ctx.store.releaseClaims(
                todoTasks(bundle).map((t) => t.hash),
                owner,
              );
            }
          }
          if (ctx.options.signal?.aborted) stopped = true;
        };
        const runOne = async (bundle: PlannedBundle, execEnv: ExecutorEnv, server: number | undefined): Promise<void> => {
          {
            const job = jobOf(ctx, bundle);
            let previous: BundleOutcome | undefined;
            for (let attempt = 1; ; attempt++) {
              try {
                const outcome = await executeBundle(job, execEnv, {
                  previous,
                  shouldStop: () => Boolean(ctx.options.signal?.aborted),
                  onTaskDone: (task, ms) => {
                    ctx.log.info({ bundle: bundle.id, task, ms: Math.round(ms), worker, server }, 'task computed');
                    ctx.store.renewClaims(owner, claimTtl);
                  },
                });
                record(ctx, outcome.results, outcome.failures);
                break;
              } catch (error) {
                if (error instanceof StopRequested) {
                  record(ctx, error.partial.results, error.partial.failures);
                  stopped = true;
                  break;
                }
                const now = new Date().toISOString();
                const finished = new Set<string>(previous ? [...previous.results.map((r) => resultTask(r)), ...previous.failures.map((f) => f.task)] : []);
                if (error instanceof TransientBundleError && shouldRetry(policy, attempt)) {
                  previous = error.partial;
                  const wait = backoffDelay(policy, attempt);
                  ctx.log.warn({ bundle: bundle.id, error: errorMessage(error.cause), attempt }, 'transient error, retrying');
                  await sleep(wait);
                  continue;
                }
                const partial = error instanceof TransientBundleError ? error.partial : previous;
                for (const r of partial?.results ?? []) finished.add(resultTask(r));
                const { code, message } = bundleFailureReason(error);
                const failures = todoTasks(bundle)
                  .filter((t) => !finished.has(t.hash))
                  .map((t) => ({ task: t.hash, code, message, worker, failedAt: now }));
                ctx.log.warn({ bundle: bundle.id, code, message }, 'bundle failed');
                record(ctx, partial?.results ?? [], [...(partial?.failures ?? []), ...failures]);
                break;
              }
            }
            report();
          }
        };
        // `slots` lanes per runner: every lane keeps its bundle on its own runner (its server's KV cache).
        await Promise.all(
          runtimes.flatMap((runtime, k) => {
            const execEnv: ExecutorEnv = { runtime, dataDir: undefined, taskDelayMs: ctx.env.taskDelayMs, worker };
            return Array.from({ length: Math.max(1, runtime.slots) }, () => lane(execEnv, runtimes.length > 1 ? k : undefined));
          }),
        );
      } finally {
        await Promise.all(runtimes.map((r) => r.close()));
      }
    }),
  );
  return stopped;
}

/**
 * How often the run process moves finished jobs into the store (one cheap Redis range read per
 * queue when nothing finished; it bounds how long the run waits for its last bundle).
 */
const POLL_MS = 100;
/** How often an inline run looks for the results of tasks another run has claimed. */
const CLAIM_POLL_MS = 250;
/** How often it looks in the store for tasks another run process finished meanwhile. */
const STORE_SCAN_MS = 2500;
/** How often it checks for bundles whose jobs vanished (removed from the dashboard, evicted). */
const REENQUEUE_CHECK_MS = 20_000;
/**
 * Bundles one periodic check looks at (in turn, so every bundle is looked at within
 * bundles / VANISHED_LOOK_BUNDLES checks); after Redis comes back, every bundle is.
 */
const VANISHED_LOOK_BUNDLES = 2000;

/** How often it looks again at a vanished bundle that a worker still holds (see `heldKey`). */
const HELD_RECHECK_MS = 1000;

/**
 * After Redis comes back, how long the run waits before it looks for jobs that vanished: long
 * enough for every worker to reconnect (ioredis retries at most every 2 s) and claim again what it
 * is computing (`heldKey`), or hand in what it finished.
 */
const RECONNECT_GRACE_MS = 5000;

/** The queue: enqueue what is missing, start local workers, move finished jobs into the store. */
async function runQueued(ctx: ExecCtx, redis: Redis, pending: PlannedBundle[], workers: LocalWorkers | undefined): Promise<boolean> {
  const { config } = ctx.loaded;
  const url = redactUrl(ctx.env.redisUrl);
  // Redis going away: one line, a bounded wait, then 'redis-lost' with the resume command.
  const watch = new RedisWatch(redis, {
    url,
    waitMs: config.queue.redis_wait_ms,
    onDown: (since, error) => {
      ctx.say(
        `Redis at ${url} unreachable since ${since.toISOString()}; finished results are safe in the store; waiting (up to ${Math.round(config.queue.redis_wait_ms / 1000)} s, queue.redis_wait_ms)`,
      );
      ctx.log.warn({ redis: url, since: since.toISOString(), error }, 'Redis unreachable');
    },
    onBack: (ms) => {
      ctx.say(`Redis at ${url} is back after ${(ms / 1000).toFixed(1)} s`);
      ctx.log.info({ redis: url, downMs: ms }, 'Redis back');
    },
    lostError: (since, error) =>
      new PerceiveError(
        'redis-lost',
        `Redis at ${url} unreachable since ${since.toISOString()} (${error || 'connection closed'}); gave up after ${Math.round(config.queue.redis_wait_ms / 1000)} s (queue.redis_wait_ms); finished results are safe in the store ${ctx.store.file}`,
        {
          hint: `start Redis, then resume with: ${ctx.resumeCommand}`,
        },
      ),
  });
  const queueError = (error: Error): void => {
    if (watch.since === undefined) ctx.log.warn({ error: errorMessage(error) }, 'queue error');
  };
  const queues = new Map<string, Queue>();
  for (const b of pending) if (!queues.has(b.model)) queues.set(b.model, openQueue(queueName(b.model, b.modelHash), config.queue, redis, queueError));
  const mine = new Set(pending.map((b) => b.id));
  const guard = <T>(work: Promise<T>): Promise<T> => watch.guard(work);
  let lost = false;
  try {
    // Results a previous session left in the queue are stored first; failed jobs are cleared so they can be re-added.
    for (const [, queue] of queues) {
      const d = await guard(drainFinished(queue, ctx.store, mine));
      d.stored.forEach((t) => ctx.tally.stored(t));
    }
    const enqueueClock = new StageClock();
    const done = ctx.store.has(pending.flatMap((b) => b.tasks.map((t) => t.hash)));
    const toEnqueue = pending.map((b) => withoutTasks(b, done)).filter((b): b is PlannedBundle => b !== undefined);
    for (const b of toEnqueue) mine.add(b.id);
    let added = 0;
    for (const [model, queue] of queues) {
      added += await guard(
        enqueueBundles(
          queue,
          redis,
          toEnqueue.filter((b) => b.model === model).map((b) => jobOf(ctx, b)),
          config.queue,
        ),
      );
    }
    ctx.say(
      `enqueued ${added} bundles (${toEnqueue.length - added} were already queued) on ${[...queues.values()].map((q) => `${config.queue.prefix}:${q.name}`).join(', ')}`,
    );
    ctx.log.info({ added, alreadyQueued: toEnqueue.length - added, ...enqueueClock.elapsed() }, 'enqueued');

    if (workers) {
      // Started before planning (one set per arm model); models with nothing left to compute are let go.
      const { perModel } = workers;
      for (const model of workers.models()) if (!queues.has(model)) void workers.stop(model);
      ctx.say(`started ${perModel * queues.size} local worker${perModel * queues.size === 1 ? '' : 's'} (${[...queues.keys()].join(', ')})`);
      // Oversubscribed cores slow every worker down sharply (core-budget.ts); one worker is let be.
      const cores = os.availableParallelism();
      for (const m of queues.keys()) {
        const threads = config.models[m]?.threads ?? ctx.env.threads;
        const servers = runtimeCount(config.models[m]!, ctx.env);
        const budget = coreBudgetVerdict({ model: m, workers: perModel, servers, threads, cores });
        if (perModel * servers > 1 && budget.status === 'warning') {
          ctx.say(`note: ${budget.message} (${budget.fix})`);
          ctx.log.warn({ model: m, threads: perModel * servers * threads, cores, workers: perModel, servers }, 'local workers oversubscribe the cores');
        }
      }
    } else ctx.say('no local workers: waiting for workers on other hosts (perceive worker --config … --model …)');

    /** Whether the last look for vanished bundles left some to the workers that hold them. */
    let leftToWorkers = false;
    const open = new OpenBundles(toEnqueue, (b) => todoTasks(b).some((t) => ctx.tally.isPending(t.hash)));
    /**
     * Bundles whose jobs vanished (Redis restarted empty, removed from the dashboard, evicted): what a
     * worker finished of them (left as an orphan) is stored first, then the rest is enqueued again.
     * A vanished bundle a worker still holds is left to it and looked at again in HELD_RECHECK_MS.
     * `all`: every open bundle (after Redis came back, and while workers hold vanished bundles);
     * otherwise the next VANISHED_LOOK_BUNDLES of them.
     */
    const requeueVanished = async (all: boolean): Promise<void> => {
      leftToWorkers = false;
      const looked = open.next(all ? Number.POSITIVE_INFINITY : VANISHED_LOOK_BUNDLES);
      for (const [model, queue] of queues) {
        const candidates = looked.filter((b) => b.model === model);
        const present = await jobsExist(
          redis,
          queue,
          candidates.map((b) => b.id),
        );
        const gone = candidates.filter((_, k) => !present[k]);
        if (gone.length === 0) continue;
        // A bundle a worker still computes (its claim written again after a reconnect) is left to
        // that worker: it keeps what it finishes as an orphan, read at the next check.
        const claimed = await keysExist(
          redis,
          gone.map((b) => heldKey(config.queue.prefix, queue.name, b.id)),
        );
        const vanished = gone.filter((_, k) => !claimed[k]);
        if (vanished.length < gone.length) leftToWorkers = true;
        if (vanished.length === 0) continue;
        let recovered = 0;
        for (const b of vanished) {
          const key = orphanKey(config.queue.prefix, queue.name, b.id);
          const orphan = await readOrphan(redis, key);
          if (!orphan) continue;
          record(ctx, orphan.results, orphan.failures);
          recovered += orphan.results.length + orphan.failures.length;
          await redis.del(key);
        }
        const again: PlannedBundle[] = [];
        for (const b of vanished) {
          const rest = withoutTasks(b, new Set(b.tasks.map((t) => t.hash).filter((h) => !ctx.tally.isPending(h))));
          open.replace(b, rest);
          if (rest) {
            mine.add(rest.id);
            again.push(rest);
          }
        }
        const n = await enqueueBundles(
          queue,
          redis,
          again.map((b) => jobOf(ctx, b)),
          config.queue,
        );
        if (n > 0 || recovered > 0) {
          ctx.say(
            `${model}: ${vanished.length} bundle${vanished.length === 1 ? '' : 's'} had vanished from Redis: ${recovered} finished tasks recovered from the workers, ${n} bundles enqueued again`,
          );
          ctx.log.warn({ model, vanished: vanished.length, recovered, again: n }, 're-enqueued bundles whose jobs had vanished');
        }
      }
    };

    /** A local worker died: its active bundles go back to the queue at once; repeated deaths end the run. */
    const handleDeath = async (d: WorkerDeath): Promise<void> => {
      const moved: string[] = [];
      for (const id of d.workerIds) for (const [, queue] of queues) moved.push(...(await returnJobsOfDeadWorker(queue, redis, config.queue, id, mine)));
      ctx.say(
        `local worker for ${d.model} (pid ${d.pid}) died (${describeExit(d)}); ${moved.length} active bundle${moved.length === 1 ? '' : 's'} put back in the queue; ` +
          (d.restarted
            ? `restarted (${d.deaths} of ${config.queue.worker_restarts} restarts)`
            : `no restart left (${config.queue.worker_restarts} allowed, queue.worker_restarts)`),
      );
      ctx.log.warn(
        {
          model: d.model,
          worker: d.pid,
          code: d.code,
          signal: d.signal,
          deaths: d.deaths,
          restarted: d.restarted,
          returned: moved,
        },
        'dead local worker handled',
      );
      const gone = workers?.gaveUp(d.model);
      if (gone && ctx.tally.remaining(d.model) > 0) {
        const advice =
          gone.signal === 'SIGKILL'
            ? `SIGKILL usually comes from the out-of-memory killer (dmesg | grep -i oom): lower models.${d.model}.threads or context_size, run fewer --workers, or give the host more memory`
            : `see its last lines above and ${ctx.run.file('log.jsonl')}`;
        throw new PerceiveError(
          'worker-failed',
          `every local worker for model ${d.model} died: the last (pid ${gone.pid}) by ${describeExit(gone)}, after ${gone.deaths} deaths (${config.queue.worker_restarts} restarts allowed). Its last log lines:\n${gone.tail.map((l) => `  ${l}`).join('\n') || '  (none)'}`,
          {
            hint: `${advice}; then resume with: ${ctx.resumeCommand} (nothing finished is lost)`,
          },
        );
      }
    };

    let lastScan = Date.now();
    let scanCursor = ctx.storeCursor;
    const startedIso = new Date(ctx.started).toISOString();
    let lastEnqueueCheck = Date.now();
    // Time spent moving finished jobs into the store (read from Redis, SQLite writes, job removal).
    let drainMs = 0;
    let drainCpuMs = 0;
    let drainStoreCpuMs = 0;
    let drainedJobs = 0;
    let backHandled = 0;
    let deathsHandled = 0;
    while (ctx.tally.remaining() > 0) {
      if (ctx.options.signal?.aborted) break;
      while (deathsHandled < ctx.deaths.length) await guard(handleDeath(ctx.deaths[deathsHandled++]!));
      for (const [model, queue] of queues) {
        const drainStart = performance.now();
        const drainCpu = process.cpuUsage();
        const d = await guard(drainFinished(queue, ctx.store, mine));
        d.stored.forEach((t) => ctx.tally.stored(t));
        d.failed.forEach((f) => ctx.tally.failed(f.task));
        drainMs += performance.now() - drainStart;
        const used = process.cpuUsage(drainCpu);
        drainCpuMs += (used.user + used.system) / 1000;
        drainStoreCpuMs += d.storeCpuMs;
        drainedJobs += d.jobs;
        if (d.jobs > 0) ctx.log.info({ model, jobs: d.jobs, stored: d.stored.length, failed: d.failed.length }, 'stored finished bundles');
        for (const f of d.failed) ctx.log.warn({ model, task: f.task, code: f.code, reason: f.message, worker: f.worker }, 'task failed');
        for (const u of d.unreadable)
          ctx.log.warn({ model, job: u.id, code: 'bad-job', reason: u.reason }, 'job with unreadable data removed (its bundle is enqueued again)');
      }
      // Tasks another run process stored or failed meanwhile.
      // Read incrementally: a scan of every pending task each time made a run quadratic in its size.
      if (Date.now() - lastScan >= STORE_SCAN_MS) {
        lastScan = Date.now();
        const fresh = ctx.store.storedSince(scanCursor);
        scanCursor = fresh.cursor;
        for (const t of fresh.tasks) ctx.tally.stored(t);
        for (const t of ctx.store.failedSince(startedIso)) ctx.tally.failed(t);
      }
      // A bundle whose job vanished is enqueued again: now and then, and shortly after Redis comes back.
      const back = watch.lastBack > backHandled && watch.since === undefined && Date.now() - watch.lastBack >= RECONNECT_GRACE_MS;
      const recheck = leftToWorkers && Date.now() - lastEnqueueCheck >= HELD_RECHECK_MS;
      if (back || recheck || Date.now() - lastEnqueueCheck >= REENQUEUE_CHECK_MS) {
        if (back) backHandled = watch.lastBack;
        lastEnqueueCheck = Date.now();
        await guard(requeueVanished(back || recheck));
      }
      ctx.options.onProgress?.(ctx.tally.progress(Date.now() - ctx.started));
      await sleep(POLL_MS);
    }
    ctx.log.info(
      { jobs: drainedJobs, ms: Math.round(drainMs), cpuMs: Math.round(drainCpuMs), storeCpuMs: Math.round(drainStoreCpuMs), heapMb: heapMb() },
      'queue drained',
    );
    return ctx.tally.remaining() > 0;
  } catch (error) {
    lost = isPerceiveError(error) && error.code === 'redis-lost';
    throw error;
  } finally {
    // Without Redis the workers cannot put their bundles back: they are stopped without waiting long.
    await workers?.stop(undefined, lost ? 5000 : undefined);
    if (!lost) {
      // Whatever finished while the workers stopped.
      for (const [, queue] of queues) {
        const d = await drainFinished(queue, ctx.store, mine).catch(() => undefined);
        d?.stored.forEach((t) => ctx.tally.stored(t));
        d?.failed.forEach((f) => ctx.tally.failed(f.task));
      }
    }
    watch.close();
    await Promise.all([...queues.values()].map((q) => Promise.race([q.close().catch(() => {}), sleep(2000)])));
  }
}

export type { ArmIdentity };
