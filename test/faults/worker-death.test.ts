import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLines, perceive, uniquePrefix, useQueueTestDir, waitFor } from '../support/queue-harness.js';
import { TestRedis } from '../support/redis-server.js';
import { faultConfig, runCounts, SLOW } from './fault-run.js';

const setup = useQueueTestDir('fault-worker');
let redis: TestRedis;
beforeAll(async () => {
  redis = await TestRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});

/** The pids of the run's local workers for a model, in start order (from log.jsonl). */
function workerPids(log: string, model: string): number[] {
  return logLines(log, 'local worker started')
    .filter((o) => o.model === model)
    .map((o) => Number(o.worker));
}

describe('a local worker that dies (SIGKILL, as the out-of-memory killer sends)', () => {
  it('is restarted, its active bundle goes back at once, and the run completes with every task computed once', async () => {
    const env = { REDIS_URL: redis.url, ...SLOW };
    // Undisturbed, for the wall time.
    const base = faultConfig(setup.dir, 'wd-base', { prefix: uniquePrefix('wdbase'), lockMs: 120_000 });
    let t = Date.now();
    const undisturbed = await perceive(['run', '--config', base.config, '--run-id', 'b', '--quiet'], env).exit;
    const baseMs = Date.now() - t;
    expect(undisturbed.code).toBe(0);

    const { config, output } = faultConfig(setup.dir, 'wd', { prefix: uniquePrefix('wd'), lockMs: 120_000 });
    const log = path.join(output, 'kw', 'log.jsonl');
    t = Date.now();
    const run = perceive(['run', '--config', config, '--run-id', 'kw', '--quiet'], env);
    await waitFor('the llava worker to compute 3 tasks', () => logLines(log, 'task computed').filter((o) => o.model === 'llava').length >= 3);
    const [pid] = workerPids(log, 'llava');
    process.kill(pid!, 'SIGKILL');
    const done = await run.exit;
    const wallMs = Date.now() - t;
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(
      new RegExp(`local worker for llava \\(pid ${pid}\\) died \\(signal SIGKILL\\); 1 active bundle put back in the queue; restarted \\(1 of 3 restarts\\)`),
    );
    const died = logLines(log, 'local worker died');
    expect(died).toHaveLength(1);
    expect(died[0]).toMatchObject({ worker: pid, model: 'llava', signal: 'SIGKILL', restarted: true });
    expect(workerPids(log, 'llava')).toHaveLength(2);
    const c = runCounts(output, 'kw');
    expect(c).toMatchObject({ samples: 48, ok: 48, results: 48, duplicates: 0, recomputed: 0 });
    // The 120 s lock was not waited out.
    expect(wallMs).toBeLessThan(baseMs + 60_000);
    console.log(
      `[worker SIGKILL] samples ${c.samples} (ok ${c.ok}); stored ${c.results}; duplicates ${c.duplicates}; recomputed tasks ${c.recomputed}; model calls ${c.calls}; wall ${(wallMs / 1000).toFixed(1)} s vs undisturbed ${(baseMs / 1000).toFixed(1)} s`,
    );
  }, 240_000);

  it('after repeated deaths the run gives up naming the signal, the last log lines, what to change and the resume command', async () => {
    const { config, output } = faultConfig(setup.dir, 'wd2', { prefix: uniquePrefix('wd2'), queue: { worker_restarts: 1 } });
    const log = path.join(output, 'k2', 'log.jsonl');
    const t = Date.now();
    const run = perceive(['run', '--config', config, '--run-id', 'k2', '--quiet'], { REDIS_URL: redis.url, ...SLOW });
    for (let k = 1; k <= 2; k++) {
      await waitFor(`llava worker ${k} to be ready`, () => logLines(log, 'worker ready').filter((o) => o.model === 'llava').length >= k);
      process.kill(workerPids(log, 'llava')[k - 1]!, 'SIGKILL');
    }
    const done = await run.exit;
    const wallMs = Date.now() - t;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('perceive: error: every local worker for model llava died: the last');
    expect(done.stderr).toContain('by signal SIGKILL, after 2 deaths (1 restarts allowed). Its last log lines:');
    expect(done.stderr).toMatch(/info worker ready/);
    expect(done.stderr).toContain('out-of-memory killer');
    expect(done.stderr).toContain(`then resume with: perceive run --resume ${path.join(output, 'k2')} (nothing finished is lost)`);
    expect(done.stderr).not.toContain('unexpected error');
    const c = runCounts(output, 'k2');
    expect(c.duplicates).toBe(0);
    console.log(
      `[worker dies twice, 1 restart allowed] exit ${done.code} after ${(wallMs / 1000).toFixed(1)} s; stored ${c.results} of 48; duplicates ${c.duplicates}`,
    );
  }, 240_000);
});
