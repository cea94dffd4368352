import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { hostTools } from '../../src/models/host-tools.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { ResultStore } from '../../src/store/result-store.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { uniquePrefix, writeQueueConfig } from '../support/queue-harness.js';

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-faults-folder-'));
  await writeDemoFixtures(path.join(dir, 'fixtures'), { seed: 0 });
}, 300_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('one run, one folder (issue 14.5)', () => {
  it('two runs with the same id get two folders, created exclusively', () => {
    const root = path.join(dir, 'ids');
    const a = RunDirectory.createExclusive(root, 'x-20261130-120000');
    const b = RunDirectory.createExclusive(root, 'x-20261130-120000');
    const c = RunDirectory.createExclusive(root, 'x-20261130-120000');
    expect([a.runId, b.runId, c.runId]).toEqual(['x-20261130-120000', 'x-20261130-120000-2', 'x-20261130-120000-3']);
    expect(fs.readdirSync(root).sort()).toHaveLength(3);
  });

  it('claims: a task claimed by one run is skipped by another until its claim expires', () => {
    const store = ResultStore.open(path.join(dir, 'claims'));
    const tasks = ['a', 'b', 'c'].map((c) => c.repeat(64));
    expect(store.claim(tasks, 'run-1', 60_000)).toHaveLength(3);
    expect(store.claim(tasks, 'run-2', 60_000)).toHaveLength(0);
    store.releaseClaims([tasks[0]!], 'run-1');
    expect(store.claim(tasks, 'run-2', 60_000)).toEqual([tasks[0]]);
    // an expired claim (its run died) is taken over
    expect(store.claim([tasks[1]!], 'run-3', -1)).toHaveLength(0);
    const other = ResultStore.open(path.join(dir, 'claims2'));
    expect(other.claim([tasks[1]!], 'dead', -1)).toHaveLength(1);
    expect(other.claim([tasks[1]!], 'alive', 60_000)).toHaveLength(1);
    store.close();
    other.close();
  });

  it('two concurrent inline runs over one store compute every task once, in two folders', async () => {
    const output = path.join(dir, 'out');
    const loaded = loadExperimentConfig(
      writeQueueConfig(path.join(dir, 'c.yaml'), {
        fixtures: path.join(dir, 'fixtures'),
        output,
        prefix: uniquePrefix('f14b'),
        arms: ['clip'],
        limit: 16,
        minBundleTasks: 1,
      }),
    );
    const env = { ...readEnvironment(), threads: 1, taskDelayMs: 40 };
    const t0 = Date.now();
    const [r1, r2] = await Promise.all([
      runExperiment(loaded, env, hostTools({}), { runId: 'same-second', queue: 'inline' }),
      runExperiment(loaded, env, hostTools({}), { runId: 'same-second', queue: 'inline' }),
    ]);
    const wall = Date.now() - t0;
    expect(new Set([r1.run.dir, r2.run.dir]).size).toBe(2);
    expect(r1.samples).toHaveLength(16);
    expect(r2.samples).toHaveLength(16);
    expect(r1.samples.every((s) => s.status === 'ok') && r2.samples.every((s) => s.status === 'ok')).toBe(true);
    const store = ResultStore.open(output);
    const counts = store.counts();
    const perTask = [...store.computationsPerTask().values()];
    store.close();
    expect(counts.results).toBe(16);
    expect(counts.computations).toBe(16); // before: 32 (every task computed by both runs)
    expect(perTask.every((n) => n === 1)).toBe(true);
    expect(r1.computed + r2.computed).toBe(16);
    console.log(
      `[faults 14.5] two inline runs: ${r1.samples.length}+${r2.samples.length} samples, ${counts.computations} computations for ${counts.results} tasks, computed ${r1.computed}+${r2.computed}, folders ${path.basename(r1.run.dir)} ${path.basename(r2.run.dir)}, ${wall} ms`,
    );
  });
});
