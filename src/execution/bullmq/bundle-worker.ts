import { DelayedError, type Job, UnrecoverableError, type Worker } from 'bullmq';
import { SafeWorker, unreadableJobData } from './safe-job.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { QueueSettings } from '../../config/experiment.js';
import { errorMessage } from '../../core/errors.js';
import { type BundleJob, BundleJobSchema, type BundleOutcome, BundleOutcomeSchema } from '../bundle-job.js';
import { queueName } from './bundle-queue.js';
import { todoTasks } from '../plan.js';
import { BundleFailure, bundleFailureReason, type ExecutorEnv, executeBundle, StopRequested, TransientBundleError } from '../bundle-executor.js';
import { backoffDelay, retryPolicy } from '../retry-policy.js';

export interface BundleWorkerHandle {
  worker: Worker;
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
  const processor = async (job: Job, token?: string): Promise<BundleOutcome> => {
    const unreadable = unreadableJobData(job.data);
    if (unreadable !== undefined) {
      log.warn({ bundle: job.id, code: 'bad-job', reason: unreadable }, 'job refused (unreadable data)');
      throw new UnrecoverableError(`bad-job: job ${job.id}: ${unreadable}`);
    }
    const parsed = BundleJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UnrecoverableError(`bad-job: job ${job.id} does not hold a bundle: field ${issue?.path.join('.')}: ${issue?.message}`);
    }
    const data = parsed.data as BundleJob;
    const previous = BundleOutcomeSchema.safeParse(job.progress).success ? (job.progress as BundleOutcome) : undefined;
    log.info({ bundle: job.id, tasks: todoTasks(data.bundle).length, resumed: previous ? previous.results.length + previous.failures.length : 0, attempt: job.attemptsMade + 1 }, 'bundle started');
    const started = Date.now();
    try {
      const outcome = await executeBundle(data, env, {
        previous,
        shouldStop: () => stopping,
        onProgress: (sofar) => job.updateProgress(sofar),
        onTaskDone: (task, ms) => log.info({ bundle: job.id, task, ms: Math.round(ms) }, 'task computed'),
      });
      log.info({ bundle: job.id, results: outcome.results.length, failures: outcome.failures.length, ms: Date.now() - started }, 'bundle done');
      return outcome;
    } catch (error) {
      if (error instanceof BundleFailure) {
        log.warn({ bundle: job.id, code: error.code, reason: error.message }, 'bundle failed (unrecoverable)');
        await job.updateProgress({ ...(previous ?? { bundle: data.bundle.id, worker: env.worker, results: [], failures: [] }), failure: bundleFailureReason(error) });
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
        log.warn({ bundle: job.id, error: errorMessage(error.cause), attempt: job.attemptsMade + 1 }, 'transient error, bundle will be retried');
        throw new Error(`${errorMessage(error.cause)}`);
      }
      log.error({ bundle: job.id, error: errorMessage(error) }, 'bundle error');
      throw error;
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
  worker.on('error', (error) => log.error({ error: errorMessage(error) }, 'worker error'));
  return {
    worker,
    close: async () => {
      stopping = true;
      await worker.close();
    },
  };
}
