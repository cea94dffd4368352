import path from 'node:path';
import { loadExperimentConfig } from '../../config/experiment.js';
import { readEnvironment } from '../../core/environment.js';
import { PerceiveError } from '../../core/errors.js';
import { runLogger } from '../../core/run-log.js';
import { findHostTools } from '../../models/host-tools.js';
import { workerName } from '../bundle-executor.js';
import { ModelRuntime } from '../model-runtime.js';
import { writeOrphanFiles } from '../orphan-files.js';

export interface WorkerProcessOptions {
  config: string;
  model: string;
  concurrency?: number;
  log?: string;
  quiet?: boolean;
}

/**
 * A worker process (`perceive worker`, local or on another host): starts one model's runtimes
 * (several with llama's `servers`: one BullMQ worker each), serves that model's BullMQ queue until
 * stopped (Ctrl-C, SIGTERM, or, for a local worker, its run process going away), then closes the
 * runtimes and its Redis connection. A stop is a graceful
 * drain: the active bundles go back to the queue after their current task, with what they
 * finished, and the process exits 0 (a container orchestrator's SIGTERM is not a failure).
 */
export async function serveModelQueue(opts: WorkerProcessOptions): Promise<void> {
  const env = readEnvironment();
  const { config } = loadExperimentConfig(opts.config);
  const spec = config.models[opts.model];
  if (!spec)
    throw new PerceiveError('bad-config', `${opts.config}: no model named "${opts.model}" under models (have: ${Object.keys(config.models).join(', ')})`);
  const logFile = path.resolve(opts.log ?? `perceive-worker.${opts.model}.log.jsonl`);
  const log = runLogger(logFile, { role: 'worker', model: opts.model, worker: workerName() }, { console: !opts.quiet });
  // Until the runner is up, a stop request (or the run process going away) just exits.
  // Nothing is in flight yet: SIGTERM (an orchestrator's stop) is a clean exit 0.
  const early = (): void => process.exit(130);
  const earlyTerm = (): void => process.exit(0);
  process.once('SIGINT', early);
  process.once('SIGTERM', earlyTerm);
  if (process.send) process.once('disconnect', early);
  // The queue's modules (BullMQ, ioredis) load, and Redis is probed, while the model loads.
  const queue = Promise.all([import('./bundle-queue.js'), import('./bundle-worker.js'), import('./redis-policy.js')]).then(async ([q, w, p]) => {
    const redis = await q.connectRedis(env.redisUrl, { probe: true });
    // BullMQ needs noeviction. A local worker's run process has said so already; a worker on another host says it once.
    const policy = await p.checkEvictionPolicy(redis);
    p.muteBullmqEvictionWarning();
    if (policy.warning && !process.send) log.warn({ maxmemoryPolicy: policy.policy, required: 'noeviction' }, policy.warning);
    return { ...q, ...w, redis };
  });
  const tools = findHostTools([spec.kind], env);
  const [queued, started] = await Promise.allSettled([queue, ModelRuntime.startAll(opts.model, spec, env, tools, path.dirname(logFile), log)]);
  if (queued.status === 'rejected' || started.status === 'rejected') {
    if (started.status === 'fulfilled') await Promise.allSettled(started.value.map((r) => r.close()));
    if (queued.status === 'fulfilled') queued.value.redis.disconnect();
    if (process.connected) process.disconnect();
    throw queued.status === 'rejected' ? queued.reason : (started as PromiseRejectedResult).reason;
  }
  const { redis, queueName, redactUrl, startBundleWorker } = queued.value;
  const runtimes = started.value;
  const runtime = runtimes[0]!;
  process.off('SIGINT', early);
  process.off('SIGTERM', earlyTerm);
  process.off('disconnect', early);
  // One BullMQ worker per runtime (llama's `servers`): a bundle runs on the server whose worker took it,
  // so its tasks reuse that server's KV cache; each takes as many bundles at once as its server has slots.
  const concurrency = opts.concurrency ?? runtime.slots;
  const handles = runtimes.map((r, k) =>
    startBundleWorker({
      connection: redis,
      settings: config.queue,
      env: { runtime: r, dataDir: env.dataDir, taskDelayMs: env.taskDelayMs, worker: workerName() },
      concurrency,
      log: runtimes.length > 1 ? log.child({ server: k }) : log,
    }),
  );
  // The run process (local workers) learns the BullMQ worker ids: a job locked with one is put back at once if this process dies.
  if (process.send) process.send({ type: 'worker-ready', workerIds: handles.map((h) => h.worker.id) });
  log.info(
    {
      queue: `${config.queue.prefix}:${queueName(opts.model, runtime.modelHash)}`,
      redis: redactUrl(env.redisUrl),
      concurrency,
      servers: runtimes.length,
      dataDir: env.dataDir ?? null,
      modelHash: runtime.modelHash,
    },
    'worker ready',
  );
  let stopped = false;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopped) return; // our own disconnect below, after a clean stop
      if (stopping) {
        log.warn({ why }, 'second stop request: exiting now (the active bundle goes back to the queue when its lock expires)');
        process.exit(130);
      }
      stopping = true;
      // Without Redis the bundles cannot go back: what they finished is kept beside the log (the run folder, for a local worker).
      if (redis.status !== 'ready') {
        const kept = writeOrphanFiles(
          path.dirname(logFile),
          handles.flatMap((h) => h.unsaved()),
        );
        log.warn({ why, kept }, 'stopping without Redis: finished tasks of the active bundles kept in orphans/');
      }
      log.info({ why }, 'stopping: the active bundles go back to the queue after their current task');
      void Promise.allSettled(handles.map((h) => h.close()))
        .then(() => Promise.allSettled(runtimes.map((r) => r.close())))
        .finally(resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    if (process.send) process.on('disconnect', () => stop('run process went away'));
  });
  stopped = true;
  log.info({}, 'worker stopped');
  redis.disconnect();
  // A local worker's IPC channel would keep it alive.
  if (process.connected) process.disconnect();
}
