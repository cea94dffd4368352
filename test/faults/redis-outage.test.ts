import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { logLines, PERCEIVE_BIN, perceive, uniquePrefix, useQueueTestDir, waitFor, writeQueueConfig } from '../support/queue-harness.js';
import { TestRedis } from '../support/redis-server.js';
import { faultConfig, runCounts, SLOW } from './fault-run.js';

const setup = useQueueTestDir('fault-redis');
let redis: TestRedis;
beforeAll(async () => {
  redis = await TestRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});

const UNREACHABLE = /Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable since \S+; finished results are safe in the store; waiting/g;

describe('Redis going away mid-run (its own redis-server, killed and started again empty)', () => {
  it('one line while it is away; back empty, the lost jobs are enqueued again and no task is computed twice', async () => {
    const { config, output } = faultConfig(setup.dir, 'ro', { prefix: uniquePrefix('ro') });
    const log = path.join(output, 'ro', 'log.jsonl');
    const t = Date.now();
    const run = perceive(['run', '--config', config, '--run-id', 'ro', '--quiet'], { REDIS_URL: redis.url, ...SLOW });
    await waitFor('8 computed tasks', () => logLines(log, 'task computed').length >= 8).catch((error) => {
      throw new Error(`${error}; the run said:\n${run.err()}`);
    });
    await redis.stop();
    await waitFor('the outage line', () => (run.err().match(UNREACHABLE) ?? []).length >= 1, 30_000);
    await sleep(4000);
    await redis.restart();
    const done = await run.exit;
    const wallMs = Date.now() - t;
    expect(done.code).toBe(0);
    expect(done.stderr.match(UNREACHABLE)).toHaveLength(1);
    expect(done.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is back after \d+\.\d s/);
    expect(done.stderr).not.toContain('ECONNREFUSED');
    expect(done.stderr).not.toContain('Error');
    const requeued = logLines(log, 're-enqueued bundles whose jobs had vanished');
    expect(requeued.length).toBeGreaterThanOrEqual(1);
    const c = runCounts(output, 'ro');
    expect(c).toMatchObject({ samples: 48, ok: 48, results: 48, duplicates: 0, recomputed: 0 });
    const recovered = requeued.reduce((n, o) => n + Number(o.recovered), 0);
    console.log(
      `[Redis killed, back empty] samples ${c.samples} (ok ${c.ok}); stored ${c.results}; duplicates ${c.duplicates}; recomputed tasks ${c.recomputed}; model calls ${c.calls}; ` +
        `bundles enqueued again ${requeued.reduce((n, o) => n + Number(o.again), 0)}, finished tasks recovered from workers ${recovered}; wall ${(wallMs / 1000).toFixed(1)} s (about 4 s of it without Redis)`,
    );
  }, 180_000);

  it('a bundle still being computed when Redis comes back empty is left to its worker, which claims it again: its task is not computed twice', async () => {
    // One bundle of two CLIP tasks, each 9 s long: Redis restarts empty during the first, which
    // is still running when the run looks for vanished jobs (5 s after Redis is back).
    const output = path.join(setup.dir, 'out-rh');
    const prefix = uniquePrefix('rh');
    const config = writeQueueConfig(path.join(setup.dir, 'rh.yaml'), {
      fixtures: path.join(setup.dir, 'fixtures'),
      output,
      prefix,
      arms: ['clip'],
      limit: 2,
      minBundleTasks: 2,
    });
    const log = path.join(output, 'rh', 'log.jsonl');
    const run = perceive(['run', '--config', config, '--run-id', 'rh', '--quiet'], { REDIS_URL: redis.url, PERCEIVE_TEST_TASK_DELAY_MS: '9000' });
    await waitFor('the bundle started', () => logLines(log, 'bundle started').length >= 1, 60_000).catch((error) => {
      throw new Error(`${error}; the run said:\n${run.err()}`);
    });
    await redis.stop();
    await waitFor('the outage line', () => (run.err().match(UNREACHABLE) ?? []).length >= 1, 30_000);
    await redis.restart();
    // The worker writes its claim again as soon as it reconnects.
    const client = new Redis(redis.url);
    let claims: string[] = [];
    await waitFor(
      'the claim written again',
      async () => {
        claims = await client.keys(`${prefix}:*:held:*`);
        return claims.length === 1;
      },
      8000,
    );
    client.disconnect();
    const done = await run.exit;
    expect(done.code).toBe(0);
    const requeued = logLines(log, 're-enqueued bundles whose jobs had vanished');
    // The first task, finished after Redis came back, is recovered from the worker, and the second
    // too when the worker (which learns that the job is gone from its next progress write) went on
    // to compute it; only what is left is enqueued again.
    expect(requeued).toHaveLength(1);
    expect([
      [1, 1],
      [2, 0],
    ]).toContainEqual([requeued[0]!.recovered, requeued[0]!.again]);
    const c = runCounts(output, 'rh');
    expect(c).toMatchObject({ samples: 2, ok: 2, results: 2, duplicates: 0, recomputed: 0, calls: 2 });
    console.log(
      `[Redis back empty mid-task] the worker claimed its bundle again (${claims.length} claim); recovered ${requeued[0]?.recovered} finished task(s), enqueued again ${requeued[0]?.again} bundle(s); samples ${c.samples}, stored ${c.results}, model calls ${c.calls}, recomputed ${c.recomputed}`,
    );
  }, 120_000);

  it('away longer than queue.redis_wait_ms: exits 1 with the exact resume command, which then finishes the run', async () => {
    const { config, output } = faultConfig(setup.dir, 'rl', { prefix: uniquePrefix('rl'), queue: { redis_wait_ms: 4000 } });
    const log = path.join(output, 'rl', 'log.jsonl');
    const t = Date.now();
    const run = perceive(['run', '--config', config, '--run-id', 'rl', '--quiet'], { REDIS_URL: redis.url, ...SLOW });
    await waitFor('8 computed tasks', () => logLines(log, 'task computed').length >= 8);
    await redis.stop();
    const done = await run.exit;
    const gaveUpMs = Date.now() - t;
    expect(done.code).toBe(1);
    expect(done.stderr.match(UNREACHABLE)).toHaveLength(1);
    expect(done.stderr).toMatch(
      /perceive: error: Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable since \S+ \(.*\); gave up after 4 s \(queue\.redis_wait_ms\); finished results are safe in the store /,
    );
    expect(done.stderr).not.toMatch(/Error: connect ECONNREFUSED|errno/);
    const resume = /hint: start Redis, then resume with: (perceive run --resume \S+)\n/.exec(done.stderr)?.[1];
    expect(resume).toBe(`perceive run --resume ${path.join(output, 'rl')}`);
    const before = runCounts(output, 'rl');

    await redis.restart();
    // The printed command, from another folder (output is not ./results).
    const args = resume!.split(' ').slice(1);
    const again = spawnSync(process.execPath, [PERCEIVE_BIN, ...args, '--quiet'], {
      cwd: '/',
      env: { ...process.env, REDIS_URL: redis.url, PERCEIVE_THREADS: '1' },
      encoding: 'utf8',
      timeout: 150_000,
    });
    expect(again.status).toBe(0);
    // What the local workers had finished when they were stopped without Redis was kept in the run folder and stored first.
    const kept = Number(/(\d+) tasks finished before Redis went away stored from /.exec(again.stderr)?.[1] ?? 0);
    expect(kept).toBeGreaterThan(0);
    const c = runCounts(output, 'rl');
    expect(c).toMatchObject({ samples: 48, ok: 48, results: 48, duplicates: 0, recomputed: 0 });
    console.log(
      `[Redis away past redis_wait_ms 4 s] exit ${done.code} after ${(gaveUpMs / 1000).toFixed(1)} s with ${before.results} stored; resumed with "${resume}": ${kept} tasks kept by the stopped workers stored first; exit ${again.status}, samples ${c.samples}, stored ${c.results}, duplicates ${c.duplicates}, recomputed tasks ${c.recomputed}`,
    );
  }, 240_000);
});
