import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLines, perceive, uniquePrefix, useQueueTestDir, waitFor } from '../support/queue-harness.js';
import { TestRedis } from '../support/redis-server.js';
import { faultConfig, runCounts, SLOW } from './fault-run.js';

const setup = useQueueTestDir('fault-sigterm');
let redis: TestRedis;
beforeAll(async () => {
  redis = await TestRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});

/** Processes whose command line names this folder and this program (llama-server started by a worker). */
function processesOf(dir: string, program: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dir) && cmdline.includes(program)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

describe('SIGTERM is a graceful drain (what container orchestrators send)', () => {
  it('a worker hands its bundle in flight back with the tasks it finished, closes llama-server, exits 0; nothing is computed twice', async () => {
    const { config, output } = faultConfig(setup.dir, 'term', { prefix: uniquePrefix('term'), lockMs: 120_000 });
    const env = { REDIS_URL: redis.url };
    // The run host enqueues and waits; the workers are started by hand, as on other hosts.
    const run = perceive(['run', '--config', config, '--run-id', 'tm', '--workers', '0', '--quiet'], env);
    const logOf = (name: string): string => path.join(setup.dir, `${name}.log.jsonl`);
    const worker = (name: string, model: string): ReturnType<typeof perceive> =>
      perceive(['worker', '--config', config, '--model', model, '--log', logOf(name), '--quiet'], { ...env, ...SLOW });
    const clip = worker('clip', 'clip');
    const first = worker('llava-1', 'llava');
    await waitFor('the first llava worker to compute 3 tasks', () => logLines(logOf('llava-1'), 'task computed').length >= 3);
    expect(processesOf(path.join(setup.dir, 'fixtures'), 'llama-server').length).toBe(1);
    first.child.kill('SIGTERM');
    const stopped = await first.exit;
    expect(stopped.code).toBe(0);
    const log1 = logOf('llava-1');
    expect(logLines(log1, 'stopping: the active bundles go back to the queue after their current task')[0]).toMatchObject({ why: 'SIGTERM' });
    const putBack = logLines(log1, 'bundle put back (worker stopping)');
    const finishedAtStop = logLines(log1, 'bundle done').length;
    // The bundle in flight went back (its finished tasks in its progress), or it had just finished.
    expect(putBack.length + finishedAtStop).toBeGreaterThan(0);
    expect(logLines(log1, 'worker stopped')).toHaveLength(1);
    // Its llama-server went with it (the 120 s lock was not needed: nothing waits for it).
    expect(processesOf(path.join(setup.dir, 'fixtures'), 'llama-server')).toEqual([]);

    // Another worker takes the bundle back and the run completes; every task is computed once.
    const second = worker('llava-2', 'llava');
    const done = await run.exit;
    expect(done.code, done.stderr).toBe(0);
    const c = runCounts(output, 'tm');
    expect(c).toMatchObject({ samples: 48, ok: 48, results: 48, duplicates: 0 });
    const perTask = new Map<string, number>();
    for (const name of ['clip', 'llava-1', 'llava-2'])
      for (const o of logLines(logOf(name), 'task computed')) perTask.set(String(o.task), (perTask.get(String(o.task)) ?? 0) + 1);
    expect(perTask.size).toBe(48);
    expect([...perTask.values()].every((n) => n === 1)).toBe(true);
    const resumed = logLines(logOf('llava-2'), 'bundle started').filter((o) => Number(o.resumed) > 0);
    if (putBack.length > 0) expect(resumed.length).toBeGreaterThan(0);

    for (const w of [clip, second]) w.child.kill('SIGTERM');
    const exits = await Promise.all([clip.exit, second.exit]);
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    expect(processesOf(path.join(setup.dir, 'fixtures'), 'llama-server')).toEqual([]);
    console.log(
      `[SIGTERM worker] exit ${stopped.code}; ${putBack.length} bundle(s) put back holding ${putBack.reduce((n, o) => n + Number(o.finished ?? 0), 0)} finished tasks; ` +
        `llama-server closed; run completed: samples ${c.samples}, each task computed once (${perTask.size} tasks); the other workers exit ${exits.map((e) => e.code).join(', ')} on SIGTERM`,
    );
  }, 300_000);
});
