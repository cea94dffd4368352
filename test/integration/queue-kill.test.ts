import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { queueName } from '../../src/execution/bullmq/bundle-queue.js';
import { ResultStore } from '../../src/store/result-store.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { alive, computedPerTask, logLines, perceive, REDIS_URL, uniquePrefix, useQueueTestDir, waitFor, writeQueueConfig } from '../support/queue-harness.js';

const setup = useQueueTestDir('queue-kill');
/** Test-only slow-down (src/config/environment.ts): each task waits this long, so kills land mid-run. */
const SLOW = { PERCEIVE_TEST_TASK_DELAY_MS: '300' };

function storeCounts(output: string): { results: number; perTask: Map<string, number> } {
  const store = ResultStore.open(output);
  try {
    return { results: store.counts().results, perTask: store.computationsPerTask() };
  } finally {
    store.close();
  }
}

describe('killing processes mid-run (real Redis, real workers on the tiny models)', () => {
  it('SIGKILL one worker mid-run: the run completes and every task is in the store exactly once', async () => {
    const prefix = uniquePrefix('killworker');
    setup.prefixes.push(prefix);
    const output = path.join(setup.dir, 'out-worker');
    const config = writeQueueConfig(path.join(setup.dir, 'worker.yaml'), { fixtures: path.join(setup.dir, 'fixtures'), output, prefix });
    const logOf = (name: string): string => path.join(setup.dir, `${name}.log.jsonl`);
    const run = perceive(['run', '--config', config, '--run-id', 'kw', '--workers', '0', '--quiet']);
    await waitFor('enqueue', () => run.err().includes('enqueued'));
    const a = perceive(['worker', '--config', config, '--model', 'llava', '--log', logOf('a'), '--quiet'], SLOW);
    const b = perceive(['worker', '--config', config, '--model', 'llava', '--log', logOf('b'), '--quiet'], SLOW);
    const c = perceive(['worker', '--config', config, '--model', 'clip', '--log', logOf('c'), '--quiet'], SLOW);
    await waitFor('worker a to compute 3 tasks', () => logLines(logOf('a'), 'task computed').length >= 3);
    a.child.kill('SIGKILL');
    const killedAfter = logLines(logOf('a'), 'task computed').length;
    const done = await run.exit;
    expect(done.stderr).not.toContain('error');
    expect(done.code).toBe(0);
    for (const w of [b, c]) w.child.kill('SIGTERM');
    await Promise.all([b.exit, c.exit]);

    const samples = RunDirectory.open(path.join(output, 'kw')).readSamples();
    expect(samples).toHaveLength(48);
    expect(samples.filter((s) => s.status === 'ok')).toHaveLength(48);
    expect(new Set(samples.map((s) => `${s.item} ${s.arm}`)).size).toBe(48);
    const { results, perTask } = storeCounts(output);
    expect(results).toBe(48);
    expect(perTask.size).toBe(48);
    expect([...perTask.values()].every((n) => n === 1)).toBe(true);
    const calls = ['a', 'b', 'c'].map((w) => logLines(logOf(w), 'task computed').length);
    expect(calls[0]).toBe(killedAfter);
    expect(calls[1]! + calls[2]!).toBeGreaterThanOrEqual(48 - killedAfter);
    console.log(
      `[kill one worker] tasks 48; stored ${results}; handed in exactly once: ${[...perTask.values()].filter((n) => n === 1).length}; ` +
        `model calls: worker A ${calls[0]} (SIGKILLed), worker B ${calls[1]}, clip worker ${calls[2]}; total ${calls.reduce((x, y) => x + y, 0)}`,
    );
  }, 300_000);

  it('SIGKILL the run process mid-run, then resume: it completes and no finished task is computed again', async () => {
    const prefix = uniquePrefix('killrun');
    setup.prefixes.push(prefix);
    const output = path.join(setup.dir, 'out-run');
    const config = writeQueueConfig(path.join(setup.dir, 'run.yaml'), { fixtures: path.join(setup.dir, 'fixtures'), output, prefix });
    const log = path.join(output, 'kr', 'log.jsonl');
    const first = perceive(['run', '--config', config, '--run-id', 'kr', '--quiet'], SLOW);
    await waitFor('10 stored tasks', () => fs.existsSync(path.join(output, 'cache.sqlite')) && storeCounts(output).results >= 10);
    first.child.kill('SIGKILL');
    await first.exit;
    // Its local workers notice (their IPC channel closes), put their bundles back and exit.
    const workers = logLines(log, 'local worker started').map((o) => Number(o.worker));
    expect(workers).toHaveLength(2);
    await waitFor('the orphaned workers to exit', () => workers.every((pid) => !alive(pid)), 60_000);
    const before = storeCounts(output);
    const storedBefore = new Set(before.perTask.keys());
    const callsBefore = computedPerTask(log);

    const second = perceive(['run', '--resume', path.join(output, 'kr'), '--quiet'], SLOW);
    const done = await second.exit;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('run finished');
    const after = storeCounts(output);
    expect(after.results).toBe(48);
    expect([...after.perTask.values()].every((n) => n === 1)).toBe(true);
    const calls = computedPerTask(log);
    const recomputed = [...storedBefore].filter((t) => (calls.get(t) ?? 0) > 1);
    expect(recomputed).toEqual([]);
    expect(calls.size).toBe(48);
    const samples = RunDirectory.open(path.join(output, 'kr')).readSamples();
    expect(samples.filter((s) => s.status === 'ok')).toHaveLength(48);
    const total = [...calls.values()].reduce((x, y) => x + y, 0);
    console.log(
      `[kill the run] before SIGKILL: ${before.results} tasks stored (${[...callsBefore.values()].reduce((x, y) => x + y, 0)} model calls); ` +
        `after resume: ${after.results} stored; model calls in all: ${total} for 48 tasks; finished tasks computed again: ${recomputed.length}`,
    );
  }, 300_000);

  it('SIGTERM (what container orchestrators send) stops cleanly, exit 0: no bundle is left active, and the run resumes to the end', async () => {
    const prefix = uniquePrefix('stop');
    setup.prefixes.push(prefix);
    const output = path.join(setup.dir, 'out-stop');
    const config = writeQueueConfig(path.join(setup.dir, 'stop.yaml'), { fixtures: path.join(setup.dir, 'fixtures'), output, prefix });
    const log = path.join(output, 'st', 'log.jsonl');
    const first = perceive(['run', '--config', config, '--run-id', 'st', '--quiet'], SLOW);
    await waitFor('8 computed tasks', () => logLines(log, 'task computed').length >= 8);
    first.child.kill('SIGTERM');
    const stopped = await first.exit;
    // A graceful drain (what container orchestrators send) is success.
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain('perceive: run stopped (SIGTERM): what finished is stored');
    expect(stopped.stderr).toContain(`hint: resume with: perceive run --resume ${path.join(output, 'st')}`);
    const workers = logLines(log, 'local worker started').map((o) => Number(o.worker));
    expect(workers.every((pid) => !alive(pid))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(output, 'st', 'manifest.json'), 'utf8')) as { models: Array<{ name: string; hash: string }> };
    const redis = new Redis(REDIS_URL);
    const left = { active: 0, waiting: 0, delayed: 0, completed: 0, failed: 0 } as Record<'active' | 'waiting' | 'delayed' | 'completed' | 'failed', number>;
    let tasksLeft = 0;
    let finishedInProgress = 0;
    for (const m of manifest.models) {
      const q = new Queue(queueName(m.name, m.hash), { connection: redis, prefix });
      const c = await q.getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed');
      for (const k of Object.keys(left) as Array<keyof typeof left>) left[k] += c[k] ?? 0;
      for (const job of await q.getJobs(['waiting', 'delayed'])) {
        tasksLeft += (job.data as { bundle: { tasks: unknown[] } }).bundle.tasks.length;
        finishedInProgress += ((job.progress as { results?: unknown[] }).results ?? []).length;
      }
      await q.close();
    }
    redis.disconnect();
    const storedAtStop = storeCounts(output).results;
    expect(left.active).toBe(0);
    expect(left.failed).toBe(0);
    // Every task not in the store is in a bundle back in the queue (some already done, in its progress).
    expect(tasksLeft).toBe(48 - storedAtStop);

    const second = perceive(['run', '--resume', path.join(output, 'st'), '--quiet'], SLOW);
    const done = await second.exit;
    expect(done.code).toBe(0);
    const after = storeCounts(output);
    expect(after.results).toBe(48);
    expect([...after.perTask.values()].every((n) => n === 1)).toBe(true);
    // Model calls: one per task, the tasks finished inside a put-back bundle included.
    const calls = computedPerTask(log);
    expect(calls.size).toBe(48);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    console.log(
      `[stop with SIGTERM] stored at stop: ${storedAtStop}; left in the queue: ${JSON.stringify(left)} holding ${tasksLeft} tasks (${finishedInProgress} finished in their progress); after resume: ${after.results} stored, each handed in once`,
    );
  }, 300_000);
});
