import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultStore } from '../../src/store/result-store.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { alive, logLines, perceive, uniquePrefix, useQueueTestDir, waitFor, writeQueueConfig } from '../support/queue-harness.js';

const setup = useQueueTestDir('llama-servers');
const prefix = uniquePrefix('servers');
setup.prefixes.push(prefix);

/** The llama-server processes serving this test's fixtures (their command line names the fixture GGUF). */
function llamaServers(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('llama-server')) && argv.some((a) => a.startsWith(setup.dir))) pids.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

/** Tasks computed per server, from the "task computed" lines (tagged with `server` when there are several). */
function tasksPerServer(log: string): Map<unknown, number> {
  const per = new Map<unknown, number>();
  for (const l of logLines(log, 'task computed')) per.set(l.server, (per.get(l.server) ?? 0) + 1);
  return per;
}

/** A config of the tiny LLaVA's vlm.vqascore with `servers: 2`, one task per bundle, writing into `out`. */
function serversConfig(name: string, out: string): { output: string; config: string } {
  const output = path.join(setup.dir, out);
  const config = writeQueueConfig(path.join(setup.dir, `${name}.yaml`), {
    fixtures: path.join(setup.dir, 'fixtures'),
    output,
    prefix,
    arms: ['vlm.vqascore'],
    minBundleTasks: 1,
    llavaServers: 2,
  });
  return { output, config };
}

describe('servers: 2 (two llama-servers per worker)', () => {
  it('one queue worker serves the model with two servers: both take bundles, every sample is stored once, both stop with the worker', async () => {
    const { output, config } = serversConfig('queue', 'out');
    const run = perceive(['run', '--config', config, '--run-id', 'q', '--workers', '0', '--quiet']);
    await waitFor('enqueue', () => run.err().includes('enqueued'));
    const workerLog = path.join(setup.dir, 'worker', 'w.log.jsonl');
    fs.mkdirSync(path.dirname(workerLog));
    // A short pause per task, so that one server cannot take every bundle before the other is asked.
    const worker = perceive(['worker', '--config', config, '--model', 'llava', '--log', workerLog, '--quiet'], { PERCEIVE_TEST_TASK_DELAY_MS: '50' });
    await waitFor('worker ready', () => logLines(workerLog, 'worker ready').length === 1);
    expect(logLines(workerLog, 'worker ready')[0]).toMatchObject({ servers: 2, concurrency: 1 });
    const servers = llamaServers();
    expect(servers).toHaveLength(2);
    const pid = worker.child.pid!;
    // One log per server, each naming the port it listens on.
    const urls = [0, 1].map((k) => {
      const text = fs.readFileSync(path.join(path.dirname(workerLog), `llama-server.llava.${pid}.${k}.log`), 'utf8');
      return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)![1]!;
    });
    expect(new Set(urls).size).toBe(2);
    const startTasks = await Promise.all(urls.map(lastTask));

    const done = await run.exit;
    expect(done.code, done.stderr).toBe(0);
    // The servers' own count: llama-server's latest task id (GET /slots) grew on both since start-up.
    const lastTasks = await Promise.all(urls.map(lastTask));
    for (const k of [0, 1]) expect(lastTasks[k]!, `server ${k}`).toBeGreaterThan(startTasks[k]!);
    worker.child.kill('SIGTERM');
    expect((await worker.exit).code).toBe(0);
    expect(await waitUntilGone(servers)).toEqual([]);

    const samples = RunDirectory.open(path.join(output, 'q')).readSamples();
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => s.status === 'ok')).toBe(true);
    expect(new Set(samples.map((s) => s.item)).size).toBe(samples.length);
    const store = ResultStore.open(output);
    const perTask = store.computationsPerTask();
    store.close();
    expect([...perTask.values()].every((n) => n === 1)).toBe(true);
    const per = tasksPerServer(workerLog);
    expect([...per.keys()].sort()).toEqual([0, 1]);
    expect(per.get(0)! + per.get(1)!).toBe(perTask.size);
    // Every bundle ran on one server: its "task computed" lines all name the same one.
    const bundleServers = new Map<unknown, Set<unknown>>();
    for (const l of logLines(workerLog, 'task computed')) bundleServers.set(l.bundle, (bundleServers.get(l.bundle) ?? new Set()).add(l.server));
    expect([...bundleServers.values()].every((s) => s.size === 1)).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(output, 'q', 'manifest.json'), 'utf8')) as { models: Array<{ name: string; servers?: number }> };
    expect(manifest.models.find((m) => m.name === 'llava')?.servers).toBe(2);
    console.log(
      `[servers: 2, queue] ${perTask.size} tasks in ${bundleServers.size} bundles: server 0 computed ${per.get(0)}, server 1 ${per.get(1)} (llama-server task ids ${startTasks.join(', ')} at start, ${lastTasks.join(', ')} at the end); ${samples.length} samples`,
    );
  }, 300_000);

  it('the in-process mode (--queue inline) runs the bundles on both servers too', async () => {
    const { output, config } = serversConfig('inline', 'out-inline');
    const run = perceive(['run', '--config', config, '--run-id', 'i', '--queue', 'inline', '--quiet'], { PERCEIVE_TEST_TASK_DELAY_MS: '50' });
    const done = await run.exit;
    expect(done.code, done.stderr).toBe(0);
    const dir = path.join(output, 'i');
    const serverLogs = fs.readdirSync(dir).filter((f) => /^llama-server\.llava\.\d+\.[01]\.log$/.test(f));
    expect(serverLogs).toHaveLength(2);
    const per = tasksPerServer(path.join(dir, 'log.jsonl'));
    expect([...per.keys()].sort()).toEqual([0, 1]);
    const samples = RunDirectory.open(dir).readSamples();
    expect(samples.every((s) => s.status === 'ok')).toBe(true);
    expect(per.get(0)! + per.get(1)!).toBe(samples.length);
    expect(llamaServers()).toEqual([]);
    console.log(`[servers: 2, in-process] server 0 computed ${per.get(0)} tasks, server 1 ${per.get(1)}; ${samples.length} samples`);
  }, 300_000);
});

/** llama-server's latest task id over its slots (GET /slots): it grows with every request the server runs. */
async function lastTask(url: string): Promise<number> {
  const slots = (await (await fetch(`${url}/slots`)).json()) as Array<{ id_task?: number }>;
  // A slot that has run nothing yet has no id_task.
  return Math.max(-1, ...slots.map((s) => s.id_task ?? -1));
}

async function waitUntilGone(pids: number[], ms = 10_000): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = pids.filter((p) => alive(p));
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}
