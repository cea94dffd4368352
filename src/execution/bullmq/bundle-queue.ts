import type { Job, Queue } from 'bullmq';
import { SafeQueue, unreadableJobData } from './safe-job.js';
import { Redis } from 'ioredis';
import type { QueueSettings } from '../../config/experiment.js';
import { PerceiveError } from '../../core/errors.js';
import type { ResultStore, TaskFailure } from '../../store/result-store.js';
import { type BundleData, type BundleJob, type BundleOutcome, BundleOutcomeSchema, encodeBundleJob, jobName, resultTask } from '../bundle-job.js';
import { BACKOFF_STRATEGY } from '../retry-policy.js';
import { jobLockKey, prefixPattern, queueMetaPattern, queueNameOfMetaKey } from './redis-keys.js';

export { redactUrl } from '../../core/redact-url.js';
import { redactCredentials, redactUrl } from '../../core/redact-url.js';

/** Whether a Redis error is a refused password (wrong, or none given where one is required). */
export function isRedisAuthError(error: unknown): boolean {
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test((error as Error)?.message ?? '');
}

/**
 * A connection BullMQ can block on (maxRetriesPerRequest null). With `probe`, first checks that
 * Redis answers within a few seconds and fails with 'redis-unreachable' otherwise, or with
 * 'redis-auth-failed' when Redis answers but refuses the password. `rediss://` URLs use TLS
 * (ioredis; NODE_EXTRA_CA_CERTS adds a private CA).
 */
export async function connectRedis(url: string, options: { probe?: boolean } = {}): Promise<Redis> {
  if (options.probe) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, enableOfflineQueue: false });
    let authError: Error | undefined;
    probe.on('error', (error: Error) => {
      if (isRedisAuthError(error)) authError = error;
    });
    try {
      await probe.connect();
      await probe.ping();
    } catch (error) {
      const refused = authError ?? (isRedisAuthError(error) ? (error as Error) : undefined);
      if (refused) {
        throw new PerceiveError('redis-auth-failed', `Redis at ${redactUrl(url)}: authentication failed (${refused.message})`, {
          hint: 'check the password in REDIS_URL (redis://:PASSWORD@host:port, or redis://USER:PASSWORD@host:port with ACL users)',
        });
      }
      throw new PerceiveError('redis-unreachable', `no Redis at ${redactUrl(url)}: ${redactCredentials((error as Error).message)}`, {
        hint: 'start Redis (redis-server --bind 127.0.0.1), set REDIS_URL, or run without --queue redis to execute in-process',
      });
    } finally {
      probe.disconnect();
    }
  }
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => {}); // reconnects on its own; RedisWatch (run) and the worker's log report outages
  return redis;
}

/**
 * One queue per model endpoint: the config's model name and the first 12 hex digits of the model
 * file hash (`llava-d513a47cf322`), so a worker only ever sees bundles for the exact files it
 * holds, even when two configs use one name for different files.
 */
export function queueName(model: string, modelHash: string): string {
  return `${model}-${modelHash.slice(0, 12)}`;
}

/** A queue; its errors (Redis going away) go to `onError`, never to the console as raw dumps. */
export function openQueue(name: string, settings: QueueSettings, connection: Redis, onError: (error: Error) => void = () => {}): Queue {
  // SafeQueue: a job whose data is not JSON (someone else's program on a shared Redis) is read, not thrown on.
  const queue = new SafeQueue(name, { connection, prefix: settings.prefix });
  queue.on('error', onError);
  return queue;
}

/** Keeps an orphaned outcome for a week (enough for the run process to come back and store it). */
export async function saveOrphan(redis: Redis, key: string, outcome: unknown): Promise<void> {
  await redis.set(key, JSON.stringify(outcome), 'EX', 7 * 24 * 3600);
}

/** The orphaned outcome of a bundle, if a worker left one (validated: Redis content is untrusted). */
export async function readOrphan(redis: Redis, key: string): Promise<BundleOutcome | undefined> {
  const raw = await redis.get(key);
  if (!raw) return undefined;
  try {
    const parsed = BundleOutcomeSchema.safeParse(JSON.parse(raw));
    return parsed.success ? (JSON.parse(raw) as BundleOutcome) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Puts a dead worker's active jobs back in the queue at once (rather than after their lock
 * expires): the jobs of `mine` whose lock token starts with the dead BullMQ worker's id. Their
 * progress (tasks already finished) stays with them. Returns the ids moved.
 */
export async function returnJobsOfDeadWorker(queue: Queue, redis: Redis, settings: QueueSettings, workerId: string, mine: Set<string>): Promise<string[]> {
  const moved: string[] = [];
  for (const id of await queue.getRanges(['active'], 0, -1)) {
    if (!mine.has(id)) continue;
    const token = await redis.get(jobLockKey(settings.prefix, queue.name, id));
    if (!token?.startsWith(`${workerId}:`)) continue;
    const job = await queue.getJob(id);
    if (!job) continue;
    try {
      await job.moveToWait(token);
      moved.push(id);
    } catch {
      /* finished or moved meanwhile */
    }
  }
  return moved;
}

/**
 * Adds bundles as jobs whose id is the bundle hash: a bundle already in the queue (waiting,
 * active, delayed or completed but not yet stored) is left as it is, so enqueueing the same plan
 * twice adds nothing (`jobsExist`: the jobs already there are not read). Returns how many jobs are new.
 */
export async function enqueueBundles(queue: Queue, redis: Redis, jobs: BundleJob[], settings: QueueSettings): Promise<number> {
  let added = 0;
  for (let i = 0; i < jobs.length; i += ENQUEUE_CHUNK) {
    const chunk = jobs.slice(i, i + ENQUEUE_CHUNK);
    const before = await jobsExist(
      redis,
      queue,
      chunk.map((j) => j.bundle.id),
    );
    const fresh = chunk.filter((_, k) => !before[k]);
    if (fresh.length === 0) continue;
    await queue.addBulk(
      fresh.map((j) => ({
        name: jobName(j.bundle),
        data: encodeBundleJob(j),
        opts: {
          jobId: j.bundle.id,
          attempts: settings.attempts,
          backoff: { type: BACKOFF_STRATEGY },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    added += fresh.length;
  }
  return added;
}

/**
 * Jobs added in one addBulk: each is serialized (and held with its BullMQ Job) until the call
 * returns, so the chunk bounds the run process's transient heap while enqueueing (500 jobs of the
 * scale suite were about 7 MB at once, the live heap's peak of a 4,000-item run).
 */
const ENQUEUE_CHUNK = 100;

/**
 * Whether each job id has a job in the queue (any state), asked with EXISTS on its hash in one
 * pipeline: the job (its data, progress and return value) is never read. Reading every pending job
 * with getJob to find the vanished ones held all their data at once in the run process (about
 * 13 KB a job at 8 tasks each: tens of MB at 32,000 items).
 */
export async function jobsExist(redis: Redis, queue: Queue, ids: string[]): Promise<boolean[]> {
  return keysExist(
    redis,
    ids.map((id) => queue.toKey(id)),
  );
}

/** Per key, whether it exists (pipelined EXISTS, 1,000 at a time). */
export async function keysExist(redis: Redis, keys: string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const key of keys.slice(i, i + 1000)) pipeline.exists(key);
    const replies = (await pipeline.exec()) ?? [];
    for (const [error, n] of replies) {
      if (error) throw error;
      out.push(n === 1);
    }
  }
  return out;
}

export interface Drained {
  stored: string[];
  failed: TaskFailure[];
  jobs: number;
  /** Jobs whose data could not be read (not JSON): removed; their bundle is enqueued again. */
  unreadable: Array<{ id: string; reason: string }>;
  /** CPU time of the store's writes (synchronous SQLite transactions), ms: the drain's share that is the store's. */
  storeCpuMs: number;
}

/**
 * Moves finished jobs into the store, then removes them: a completed job's results (and the
 * per-task failures it carries); a failed job's finished tasks (from its progress) and a failure
 * with the job's reason for every other task. A crash between the two steps only means the job
 * is stored again next time (the store ignores a task it has).
 */
export async function drainFinished(queue: Queue, store: ResultStore, mine?: Set<string>): Promise<Drained> {
  const out: Drained = { stored: [], failed: [], jobs: 0, unreadable: [], storeCpuMs: 0 };
  for (const state of ['completed', 'failed'] as const) {
    // Only this run's bundles (by id): another run may share the queue but keep a different store.
    const ids = (await queue.getRanges([state], 0, -1)).filter((id) => !mine || mine.has(id));
    // A chunk of jobs at a time: read together, stored in one transaction, then removed together
    // (one Redis round trip and one SQLite commit per job made draining the run's busiest work).
    for (let c = 0; c < ids.length; c += DRAIN_CHUNK) {
      const jobs = await Promise.all(ids.slice(c, c + DRAIN_CHUNK).map((id) => queue.getJob(id)));
      const results: unknown[] = [];
      const failures: TaskFailure[] = [];
      const done: Job[] = [];
      for (const job of jobs) {
        if (!job?.id) continue;
        const unreadable = unreadableJobData(job.data);
        if (unreadable !== undefined) {
          out.unreadable.push({ id: job.id, reason: unreadable });
          await job.remove().catch(() => {});
          out.jobs++;
          continue;
        }
        const outcome = jobOutcome(job, state);
        results.push(...outcome.results);
        failures.push(...outcome.failures);
        done.push(job);
      }
      if (done.length === 0) continue;
      const cpu = process.cpuUsage();
      const put = store.put(results, failures);
      const used = process.cpuUsage(cpu);
      out.storeCpuMs += (used.user + used.system) / 1000;
      const rejected = new Set(put.rejected.map((f) => f.task));
      for (const r of results) {
        const t = resultTask(r);
        if (!rejected.has(t)) out.stored.push(t);
      }
      out.failed.push(...failures, ...put.rejected);
      await Promise.all(done.map((job) => job.remove().catch(() => {})));
      out.jobs += done.length;
    }
  }
  return out;
}

/** Jobs read, stored and removed together by `drainFinished`. */
const DRAIN_CHUNK = 100;

/** A finished job's results and failures: a failure with the job's reason for every task it did not finish. */
function jobOutcome(job: Job, state: 'completed' | 'failed'): { results: unknown[]; failures: TaskFailure[] } {
  // Only the tasks' hashes are read (any job version carries them).
  const bundle = (job.data as { bundle?: Partial<Pick<BundleData, 'tasks' | 'done'>> } | undefined)?.bundle;
  const done = new Set(Array.isArray(bundle?.done) ? bundle.done : []);
  const tasks = Array.isArray(bundle?.tasks) ? bundle.tasks.map((t) => t?.hash).filter((h): h is string => typeof h === 'string' && !done.has(h)) : [];
  let results: unknown[] = [];
  let failures: TaskFailure[] = [];
  if (state === 'completed') {
    const parsed = BundleOutcomeSchema.safeParse(job.returnvalue);
    if (parsed.success) {
      results = (job.returnvalue as { results: unknown[] }).results;
      failures = parsed.data.failures;
    }
  } else {
    const partial = BundleOutcomeSchema.safeParse(job.progress);
    if (partial.success) {
      results = (job.progress as { results: unknown[] }).results;
      failures = partial.data.failures;
    }
  }
  const seen = new Set([...results.map((r) => resultTask(r)), ...failures.map((f) => f.task)]);
  const recorded = BundleOutcomeSchema.safeParse(job.progress).data?.failure;
  const reason =
    recorded ??
    (state === 'completed'
      ? { code: 'bad-job', message: 'the job returned no readable results' }
      : { code: 'job-failed', message: job.failedReason || 'failed' });
  const now = new Date().toISOString();
  for (const t of tasks) if (!seen.has(t)) failures.push({ task: t, code: reason.code, message: reason.message, worker: '?', failedAt: now });
  return { results, failures };
}

/** The queues under a prefix (for the dashboard), found by their meta keys. */
export async function listQueueNames(redis: Redis, prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for await (const keys of scanKeys(redis, queueMetaPattern(prefix))) {
    for (const k of keys) names.add(queueNameOfMetaKey(prefix, k));
  }
  return [...names].sort();
}

/**
 * Deletes every Redis key under a prefix (every queue, job and event stream of it). For tests,
 * benchmarks and clean-up; a run never calls it. Returns how many keys were deleted.
 */
export async function deletePrefixKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of scanKeys(redis, prefixPattern(prefix))) {
    if (keys.length > 0) deleted += await redis.del(...keys);
  }
  return deleted;
}

/** The keys matching a pattern, a SCAN page at a time (never KEYS: it would block Redis). */
async function* scanKeys(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    yield keys;
  } while (cursor !== '0');
}
