import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { listQueueNames } from '../../src/execution/bullmq/bundle-queue.js';
import { logLines, perceive, REDIS_URL, uniquePrefix, useQueueTestDir, waitFor } from '../support/queue-harness.js';
import { faultConfig, runCounts } from './fault-run.js';

const setup = useQueueTestDir('fault-removed-job');
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
afterAll(async () => {
  await redis.quit();
});

describe('a waiting job removed mid-run (from the dashboard, or evicted)', () => {
  it('the periodic look (a few bundles at a time, in turn) finds it gone and enqueues its bundle again; every sample once', async () => {
    const prefix = uniquePrefix('rm');
    setup.prefixes.push(prefix);
    const { config, output } = faultConfig(setup.dir, 'rm', { prefix });
    const log = path.join(output, 'rm', 'log.jsonl');
    const t = Date.now();
    // Slow tasks: the run is still going when it first looks for vanished jobs (20 s after the queue starts).
    const run = perceive(['run', '--config', config, '--run-id', 'rm', '--quiet'], { PERCEIVE_TEST_TASK_DELAY_MS: '600' });
    await waitFor('a computed task', () => logLines(log, 'task computed').length >= 1).catch((error) => {
      throw new Error(`${error}; the run said:\n${run.err()}`);
    });
    let removed = '';
    for (const name of await listQueueNames(redis, prefix)) {
      const queue = new Queue(name, { connection: redis, prefix });
      const [job] = await queue.getWaiting(0, 0);
      if (job?.id && !removed) {
        await job.remove();
        removed = job.id;
      }
    }
    expect(removed).not.toBe('');
    const done = await run.exit;
    const wallMs = Date.now() - t;
    expect(done.code, done.stderr).toBe(0);
    const requeued = logLines(log, 're-enqueued bundles whose jobs had vanished');
    expect(requeued).toHaveLength(1);
    expect(requeued[0]).toMatchObject({ vanished: 1, recovered: 0, again: 1 });
    const c = runCounts(output, 'rm');
    expect(c).toMatchObject({ samples: 48, ok: 48, results: 48, duplicates: 0, recomputed: 0, calls: 48 });
    console.log(
      `[a waiting job removed] job ${removed} removed; bundles enqueued again ${requeued[0]!.again}; samples ${c.samples} (ok ${c.ok}); stored ${c.results}; duplicates ${c.duplicates}; recomputed ${c.recomputed}; model calls ${c.calls}; wall ${(wallMs / 1000).toFixed(1)} s`,
    );
  }, 180_000);
});
