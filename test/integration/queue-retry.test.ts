import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import type { LlamaBinaries } from '../../src/models/llama/llama-build.js';
import { LlamaServer } from '../../src/models/llama/llama-server.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';
import { logLines, uniquePrefix, waitFor, writeQueueConfig } from '../support/queue-harness.js';
import { hostTools } from '../../src/models/host-tools.js';

let dir: string;
let binaries: LlamaBinaries;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-queue-retry-'));
  binaries = await llamaBinaries();
  await writeDemoFixtures(path.join(dir, 'fixtures'), { seed: 0 });
}, BUILD_TIMEOUT_MS);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const startServer = (): Promise<LlamaServer> =>
  LlamaServer.start({
    bin: binaries.server,
    model: path.join(dir, 'fixtures', 'tiny-llava', 'tiny-llava-text.gguf'),
    mmproj: path.join(dir, 'fixtures', 'tiny-llava', 'tiny-llava-mmproj.gguf'),
    threads: 1,
    contextSize: 2048,
  });

describe('transient errors', () => {
  it('a server that goes away is retried with backoff, then its tasks are recorded as failed; a later run computes only those', async () => {
    const output = path.join(dir, 'out');
    const loaded = loadExperimentConfig(
      writeQueueConfig(path.join(dir, 'retry.yaml'), {
        fixtures: path.join(dir, 'fixtures'),
        output,
        prefix: uniquePrefix('retry'),
        arms: ['vlm.vqascore'],
        limit: 8,
      }),
    );
    const log = path.join(output, 'r', 'log.jsonl');
    const server = await startServer();
    const env = { ...readEnvironment(), llamaServerUrl: server.url, threads: 1, taskDelayMs: 300 };
    const first = runExperiment(loaded, env, hostTools({}), { runId: 'r', queue: 'inline' });
    await waitFor('two computed tasks', () => logLines(log, 'task computed').length >= 2);
    await server.stop();
    const r1 = await first;
    expect(r1.samples).toHaveLength(8);
    const failed = r1.samples.filter((s) => s.status === 'failed');
    const ok = r1.samples.filter((s) => s.status === 'ok');
    expect(failed.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((s) => s.error!.code === 'server-unreachable' && s.scores === null)).toBe(true);
    // attempts: 2 in the test config, so one retry (after backoff) per failed bundle.
    const retries = logLines(log, 'transient error, retrying');
    const failedBundles = logLines(log, 'bundle failed');
    expect(failedBundles.length).toBeGreaterThan(0);
    expect(retries).toHaveLength(failedBundles.length);
    expect(failedBundles.every((l) => l.code === 'server-unreachable')).toBe(true);

    const server2 = await startServer();
    try {
      const r2 = await runExperiment(loaded, { ...env, llamaServerUrl: server2.url, taskDelayMs: 0 }, hostTools({}), {
        runId: 'r',
        resume: true,
        queue: 'inline',
      });
      expect(r2.samples.filter((s) => s.status === 'ok')).toHaveLength(8);
      expect(r2.computed).toBe(failed.length);
      expect(r2.reused).toBe(ok.length);
      console.log(
        `[transient] server stopped after ${ok.length} tasks: ${failed.length} tasks failed (server-unreachable) after ${retries.length} bundle retries; the next run computed ${r2.computed} and re-used ${r2.reused}`,
      );
    } finally {
      await server2.stop();
    }
  }, 300_000);
});
