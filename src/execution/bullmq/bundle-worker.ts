import { DelayedError, type Job, UnrecoverableError, type Worker } from 'bullmq';
import { SafeWorker, unreadableJobData } from './safe-job.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { QueueSettings } from '../../config/experiment.js';
import { errorMessage } from '../../core/errors.js';
import { type BundleOutcome, BundleJobSchema, BundleOutcomeSchema, decodeBundleJob } from '../bundle-job.js';
import { queueName, readOrphan, saveOrphan } from './bundle-queue.js';
import { heldKey, orphanKey } from './redis-keys.js';
import { todoTasks } from '../plan.js';
import { BundleFailure, bundleFailureReason, type ExecutorEnv, executeBundle, StopRequested, TransientBundleError } from '../bundle-executor.js';
import { backoffDelay, retryPolicy } from '../retry-policy.js';
import { describeZodIssues } from '../../core/zod-issues.js';

/** The job's keys are gone (Redis restarted empty, the job removed): what finished is kept as an orphan. */
class JobVanished extends Error {
  constructor(readonly partial: BundleOutcome) {
    super('the job vanished from Redis');
  }
}

/** How long a worker's claim on a bundle (`heldKey`) outlives the worker; renewed every third of it. */
export const HELD_TTL_MS = 30_000;

function isMissingJob(error: unknown): boolean {
  return /Missing key for job|Missing lock for job/.test(errorMessage(error));
}

export interface BundleWorkerHandle {
  worker: Worker;
  /** What the active bundles finished that Redis may not hold yet (kept on disk when stopping without Redis). */
  unsaved(): BundleOutcome[];
  /** Stops taking jobs; an active bundle stops after its current task and goes back to the queue. */
  close(): Promise<void>;
}

/**
 * A BullMQ worker on one model's queue, running `executeBundle` with as many bundles at once as
 * the runner has slots. Locks are renewed while a bundle runs (calls may take minutes); a worker
 * that dies leaves its bundle to the stalled check, and the next worker skips the tasks the dead
 * one finished (they travel in the job's progress).
 */
export function startBundleWorker(args: {
  connection: Redis;
  settings: QueueSettings;
  env: ExecutorEnv;
  concurrency: number;
  log: Logger;
}): BundleWorkerHandle {
  const { env, log } = args;
  const policy = retryPolicy(args.settings);
  let stopping = false;
  /** The latest outcome of each active bundle, until its job is completed or failed in Redis. */
  const unsaved = new Map<string, BundleOutcome>();
  /** The claim (`heldKey`) of each bundle this worker is computing; written again on every reconnect. */
  const held = new Set<string>();
  const claim = (keys: Iterable<string>): void => {
    const pipeline = args.connection.pipeline();
    let n = 0;
    for (const key of keys) {
      pipeline.set(key, env.worker, 'PX', HELD_TTL_MS);
      n++;
    }
    // Best effort: without Redis the claim cannot matter (nothing can be enqueued again either).
    if (n > 0) pipeline.exec().catch(() => {});
  };
  const renew = setInterval(() => claim(held), HELD_TTL_MS / 3);
  renew.unref();
  const onReady = (): void => claim(held);
  args.connection.on('ready', onReady);
  const processor = async (job: Job, token?: string): Promise<BundleOutcome> => {
    const unreadable = unreadableJobData(job.data);
    if (unreadable !== undefined) {
      log.warn({ bundle: job.id, code: 'bad-job', reason: unreadable }, 'job refused (unreadable data)');
      throw new UnrecoverableError(`bad-job: job ${job.id}: ${unreadable}`);
    }
    const parsed = BundleJobSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(`bad-job: job ${job.id} does not hold a bundle: ${describeZodIssues(parsed.error, { limit: 1 })}`);
    }
    const data = decodeBundleJob(parsed.data);
    const orphan = orphanKey(args.settings.prefix, job.queueName, String(job.id));
    const claimKey = heldKey(args.settings.prefix, job.queueName, String(job.id));
    // Tasks finished under an earlier job of this bundle that vanished (its outcome kept as an orphan).
    const previous = BundleOutcomeSchema.safeParse(job.progress).success ? (job.progress as BundleOutcome) : await readOrphan(args.connection, orphan);
    // Progress that cannot be saved because the job is gone stops the bundle: what finished is kept.
    // A task's progress write is not waited for: the next task starts while it travels, and its
    // outcome (an error included) is taken before the next write or at the bundle's end.
    let inflight: Promise<void> | undefined;
    const write = (sofar: BundleOutcome): Promise<void> =>
      job.updateProgress(sofar).catch((error: unknown) => {
        throw isMissingJob(error) ? new JobVanished(sofar) : error;
      });
    const save = async (sofar: BundleOutcome, wait = false): Promise<void> => {
      unsaved.set(String(job.id), sofar);
      const before = inflight;
      inflight = undefined;
      try {
        await before;
      } catch (error) {
        // The job vanished before this write: what finished since is kept too.
        throw error instanceof JobVanished ? new JobVanished(sofar) : error;
      }
      // A copy of the lists: the executor appends the next task's result while this one travels.
      const snapshot: BundleOutcome = { ...sofar, results: [...sofar.results], failures: [...sofar.failures] };
      if (wait) return write(snapshot);
      const pending = write(snapshot);
      pending.catch(() => {});
      inflight = pending;
    };
    log.info(
      {
        bundle: job.id,
        tasks: todoTasks(data.bundle).length,
        resumed: previous ? previous.results.length + previous.failures.length : 0,
        attempt: job.attemptsMade + 1,
      },
      'bundle started',
    );
    const started = Date.now();
    held.add(claimKey);
    claim([claimKey]);
    try {
      const outcome = await executeBundle(data, env, {
        previous,
        shouldStop: () => stopping,
        onProgress: save,
        onTaskDone: (task, ms) => log.info({ bundle: job.id, task, ms: Math.round(ms) }, 'task computed'),
      });
      // Saved as progress too: if the job vanished meanwhile, the outcome is kept as an orphan instead of lost.
      await save(outcome, true);
      log.info({ bundle: job.id, results: outcome.results.length, failures: outcome.failures.length, ms: Date.now() - started }, 'bundle done');
      return outcome;
    } catch (caught) {
      let error = caught;
      // A progress write still travelling that finds the job gone: what finished is kept as an orphan.
      const lost = await inflight?.then(
        () => undefined,
        (e: unknown) => e,
      );
      inflight = undefined;
      if (lost instanceof JobVanished && (error instanceof StopRequested || error instanceof TransientBundleError)) error = new JobVanished(error.partial);
      if (error instanceof JobVanished) {
        await saveOrphan(args.connection, orphan, error.partial);
        log.warn(
          {
            bundle: job.id,
            finished: error.partial.results.length + error.partial.failures.length,
          },
          'job vanished from Redis; what finished is kept for the run process',
        );
        throw new UnrecoverableError('job vanished');
      }
      if (error instanceof BundleFailure) {
        log.warn({ bundle: job.id, code: error.code, reason: error.message }, 'bundle failed (unrecoverable)');
        await job.updateProgress({
          ...(previous ?? {
            bundle: data.bundle.id,
            worker: env.worker,
            results: [],
            failures: [],
          }),
          failure: bundleFailureReason(error),
        });
        throw new UnrecoverableError(error.message);
      }
      if (error instanceof StopRequested) {
        await job.updateProgress(error.partial);
        await job.moveToDelayed(Date.now(), token);
        log.info({ bundle: job.id, finished: error.partial.results.length }, 'bundle put back (worker stopping)');
        throw new DelayedError();
      }
      if (error instanceof TransientBundleError) {
        // The reason travels as data: if this was the last try, the drain records it for every task left.
        await job.updateProgress({ ...error.partial, failure: bundleFailureReason(error) });
        log.warn(
          {
            bundle: job.id,
            error: errorMessage(error.cause),
            attempt: job.attemptsMade + 1,
          },
          'transient error, bundle will be retried',
        );
        throw new Error(`${errorMessage(error.cause)}`);
      }
      log.error({ bundle: job.id, error: errorMessage(error) }, 'bundle error');
      throw error;
    } finally {
      // After the orphan (if any) is written: the run process reads the orphan once the claim is gone.
      held.delete(claimKey);
      args.connection.del(claimKey).catch(() => {});
    }
  };
  const worker = new SafeWorker(queueName(env.runtime.name, env.runtime.modelHash), processor, {
    connection: args.connection,
    prefix: args.settings.prefix,
    concurrency: args.concurrency,
    lockDuration: args.settings.lock_ms,
    stalledInterval: args.settings.stalled_check_ms,
    maxStalledCount: 3,
    settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(policy, attemptsMade) },
  });
  // One line per distinct error and half-minute: Redis away means one refused reconnect after another.
  let last = { message: '', at: 0 };
  worker.on('error', (error) => {
    const message = errorMessage(error);
    if (message === last.message && Date.now() - last.at < 30_000) return;
    last = { message, at: Date.now() };
    log.error({ error: message }, 'worker error');
  });
  worker.on('completed', (job) => unsaved.delete(String(job.id)));
  worker.on('failed', (job) => {
    if (job) unsaved.delete(String(job.id));
  });
  return {
    worker,
    unsaved: () => [...unsaved.values()],
    close: async () => {
      stopping = true;
      await worker.close();
      clearInterval(renew);
      args.connection.off('ready', onReady);
    },
  };
}
