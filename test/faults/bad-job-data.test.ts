import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/core/environment.js';
import { connectRedis, deletePrefixKeys, drainFinished, openQueue, queueName } from '../../src/execution/bullmq/bundle-queue.js';
import { startBundleWorker } from '../../src/execution/bullmq/bundle-worker.js';
import type { ExecutorEnv } from '../../src/execution/bundle-executor.js';
import { ResultStore } from '../../src/store/result-store.js';
import { uniquePrefix, waitFor } from '../support/queue-harness.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-faults-job-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('job data is untrusted (issue 14.6), on the real Redis', () => {
  it('a job whose data is not JSON fails with its id and a named reason, is drained, and listing the queue does not throw', async () => {
    const redis = await connectRedis(readEnvironment().redisUrl, { probe: true });
    const prefix = uniquePrefix('f14b-badjob');
    const settings = { prefix, attempts: 2, backoff_ms: 100, lock_ms: 3000, stalled_check_ms: 1000, min_bundle_tasks: 1 } as Parameters<typeof openQueue>[1];
    const name = queueName('m', 'a'.repeat(64));
    const queue = openQueue(name, settings, redis);
    await queue.add('hostile', { v: 1 }, { jobId: 'hostile-1', removeOnFail: false });
    // Someone else on the shared Redis writes data that is not JSON.
    await redis.hset(`${prefix}:${name}:hostile-1`, 'data', '{"v":1, not json');
    // BullMQ's own Queue throws while listing it (what made Bull Board answer 500); ours lists it.
    const plain = new Queue(name, { connection: redis, prefix });
    const plainError = await plain.getJobs(['waiting']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(plainError).toBeInstanceOf(SyntaxError);
    const listed = await queue.getJobs(['waiting']);
    expect(listed.map((j) => j.id)).toEqual(['hostile-1']);

    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    // No model is needed: the job is refused before the runtime is asked for anything.
    const env = { runtime: { name: 'm', modelHash: 'a'.repeat(64) }, dataDir: undefined, taskDelayMs: 0, worker: 'test:1' } as unknown as ExecutorEnv;
    const connection = redis.duplicate();
    const handle = startBundleWorker({ connection, settings, env, concurrency: 1, log });
    const t0 = Date.now();
    await waitFor('the hostile job failed', async () => (await queue.getJobState('hostile-1')) === 'failed', 30_000);
    const ms = Date.now() - t0;
    const job = (await queue.getJob('hostile-1'))!;
    expect(job.failedReason).toMatch(/^bad-job: job hostile-1: data is not valid JSON/);
    expect(lines.some((l) => l.includes('job refused (unreadable data)'))).toBe(true);
    await handle.close();
    connection.disconnect();

    const store = ResultStore.open(dir);
    const drained = await drainFinished(queue, store, new Set(['hostile-1']));
    expect(drained.unreadable.map((u) => u.id)).toEqual(['hostile-1']);
    expect(drained.jobs).toBe(1);
    expect(await queue.getJob('hostile-1')).toBeUndefined();
    console.log(
      `[faults 14.6] job with non-JSON data: failed in ${ms} ms with "${job.failedReason.slice(0, 80)}…"; drained 1 unreadable job, 0 results, 0 failures stored`,
    );
    store.close();
    await plain.close();
    await queue.close();
    await deletePrefixKeys(redis, prefix);
    redis.disconnect();
  });
});
