import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startDashboard } from '../../src/cli/dashboard.js';
import { loadExperimentConfig } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { queueName } from '../../src/execution/bullmq/bundle-queue.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import type { Sample } from '../../src/store/sample.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { deadPort, perceive, REDIS_URL, uniquePrefix, useQueueTestDir, writeQueueConfig } from '../support/queue-harness.js';
import { hostTools } from '../../src/models/host-tools.js';

const setup = useQueueTestDir('queue-modes');
const env = { ...readEnvironment(), redisUrl: REDIS_URL, llamaServerUrl: undefined, threads: 1, taskDelayMs: 0 };

function comparable(samples: Sample[]): unknown[] {
  return samples.map((s) => ({
    item: s.item,
    arm: s.arm,
    task: s.task,
    status: s.status,
    prediction: s.prediction,
    correct: s.correct,
    scores: s.scores?.map((r) => r.map((v) => Number(v.toPrecision(5)))),
  }));
}

describe('queue and in-process modes', () => {
  it('enqueueing the same plan twice leaves the job count unchanged; the dashboard lists the queues', async () => {
    const prefix = uniquePrefix('twice');
    setup.prefixes.push(prefix);
    const loaded = loadExperimentConfig(
      writeQueueConfig(path.join(setup.dir, 'twice.yaml'), { fixtures: path.join(setup.dir, 'fixtures'), output: path.join(setup.dir, 'out-twice'), prefix }),
    );
    const counts = async (): Promise<number[]> => {
      const redis = new Redis(REDIS_URL);
      const manifest = new RunDirectory(path.join(setup.dir, 'out-twice'), 'once').readJson('manifest.json') as {
        models: Array<{ name: string; hash: string }>;
      };
      const out: number[] = [];
      for (const m of manifest.models) {
        const q = new Queue(queueName(m.name, m.hash), { connection: redis, prefix });
        const c = await q.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed');
        out.push(Object.values(c).reduce((a, b) => a + b, 0));
        await q.close();
      }
      redis.disconnect();
      return out;
    };
    // No workers: each run enqueues, then is stopped (as Ctrl-C would) once the jobs are in.
    const enqueueOnly = async (runId: string): Promise<string[]> => {
      const lines: string[] = [];
      const stop = new AbortController();
      const r = await runExperiment(loaded, env, hostTools({}), {
        runId,
        queue: 'redis',
        workers: 0,
        signal: stop.signal,
        onMessage: (l) => {
          lines.push(l);
          if (l.startsWith('no local workers')) stop.abort();
        },
      });
      expect(r.stopped).toBe(true);
      expect(r.mode).toBe('queue');
      return lines;
    };
    const first = await enqueueOnly('once');
    // 12 pairs × 2 tasks per model, merged into jobs of at least 8 tasks (queue.min_bundle_tasks): 3 per model.
    expect(first.find((l) => l.startsWith('enqueued'))).toMatch(
      /^enqueued 6 bundles \(0 were already queued\) on t-twice-\S+:clip-[0-9a-f]{12}, t-twice-\S+:llava-[0-9a-f]{12}$/,
    );
    const after1 = await counts();
    const second = await enqueueOnly('twice');
    expect(second.find((l) => l.startsWith('enqueued'))).toMatch(/^enqueued 0 bundles \(6 were already queued\)/);
    const after2 = await counts();
    expect(after1).toEqual([3, 3]);
    expect(after2).toEqual(after1);
    console.log(`[enqueue twice] jobs per queue after the first enqueue: ${after1.join(', ')}; after the second: ${after2.join(', ')}`);

    const board = await startDashboard({ redisUrl: REDIS_URL, prefix, port: 0 });
    try {
      expect(board.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(board.queues).toHaveLength(2);
      const page = await fetch(board.url);
      expect(page.status).toBe(200);
      const api = (await (await fetch(`${board.url}api/queues`)).json()) as { queues: Array<{ name: string; counts: Record<string, number> }> };
      expect(api.queues.map((q) => q.name).sort()).toEqual([...board.queues].sort());
      expect(api.queues.every((q) => q.counts.waiting === 3)).toBe(true);
    } finally {
      await board.close();
    }
  }, 300_000);

  it('the dashboard picks up a queue created after it started', async () => {
    const prefix = uniquePrefix('board');
    setup.prefixes.push(prefix);
    const board = await startDashboard({ redisUrl: REDIS_URL, prefix, port: 0, refreshMs: 200 });
    const redis = new Redis(REDIS_URL);
    try {
      expect(board.queues).toEqual([]);
      const q = new Queue('llava-0123456789ab', { connection: redis, prefix });
      await q.add('probe', { note: 'not a bundle' }, { jobId: 'probe' });
      await q.close();
      const names = async (): Promise<string[]> =>
        ((await (await fetch(`${board.url}api/queues`)).json()) as { queues: Array<{ name: string }> }).queues.map((x) => x.name);
      const until = Date.now() + 10_000;
      while (!(await names()).includes('llava-0123456789ab') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(await names()).toEqual(['llava-0123456789ab']);
    } finally {
      redis.disconnect();
      await board.close();
    }
  });

  it('a corrupt image and a malformed row end as failed items with named reasons; the rest completes (queued)', async () => {
    const prefix = uniquePrefix('bad');
    setup.prefixes.push(prefix);
    const fixtures = path.join(setup.dir, 'fixtures-bad');
    fs.cpSync(path.join(setup.dir, 'fixtures'), fixtures, { recursive: true });
    const annotations = path.join(fixtures, 'whatsup', 'data', 'controlled_images_dataset.json');
    const rows = JSON.parse(fs.readFileSync(annotations, 'utf8')) as Array<{ image_path: string; caption_options: unknown }>;
    fs.writeFileSync(path.join(fixtures, 'whatsup', rows[0]!.image_path), Buffer.from('this is not a jpeg'));
    rows[9]!.caption_options = 'not a list';
    fs.writeFileSync(annotations, JSON.stringify(rows));
    const config = writeQueueConfig(path.join(setup.dir, 'bad.yaml'), { fixtures, output: path.join(setup.dir, 'out-bad'), prefix });
    const run = perceive(['run', '--config', config, '--run-id', 'bad', '--quiet']);
    const done = await run.exit;
    expect(done.code).toBe(0);
    expect(done.stderr.split('\n')[0]).toMatch(/^queue: BullMQ on redis:\/\/127\.0\.0\.1:6379/);
    const samples = RunDirectory.open(path.join(setup.dir, 'out-bad', 'bad')).readSamples();
    expect(samples).toHaveLength(48);
    expect(samples.filter((s) => s.status === 'ok')).toHaveLength(44);
    const failed = samples.filter((s) => s.status === 'failed');
    expect(failed.map((s) => `${s.item} ${s.arm} ${s.error!.code}`).sort()).toEqual([
      'whatsup.synthetic/0 clip bad-image',
      'whatsup.synthetic/0 vlm.vqascore bad-image',
      'whatsup.synthetic/9 clip bad-row',
      'whatsup.synthetic/9 vlm.vqascore bad-row',
    ]);
    expect(failed.find((s) => s.item === 'whatsup.synthetic/0')!.error!.message).toContain(path.basename(rows[0]!.image_path));
    expect(failed.find((s) => s.item === 'whatsup.synthetic/9')!.error!.message).toMatch(/row 9.*caption_options/);
    expect(fs.readFileSync(path.join(setup.dir, 'out-bad', 'bad', 'report.md'), 'utf8')).toContain('whatsup.synthetic/9');
  }, 300_000);

  it('without Redis (nothing listening on the port) the run goes in-process, says so first, and gives the same samples as the queue', async () => {
    const prefix = uniquePrefix('same');
    setup.prefixes.push(prefix);
    const queued = perceive([
      'run',
      '--config',
      writeQueueConfig(path.join(setup.dir, 'q.yaml'), { fixtures: path.join(setup.dir, 'fixtures'), output: path.join(setup.dir, 'out-q'), prefix }),
      '--run-id',
      'q',
      '--quiet',
    ]);
    const q = await queued.exit;
    expect(q.code).toBe(0);
    const port = await deadPort();
    const inlineConfig = writeQueueConfig(path.join(setup.dir, 'i.yaml'), {
      fixtures: path.join(setup.dir, 'fixtures'),
      output: path.join(setup.dir, 'out-i'),
      prefix,
    });
    const inline = perceive(['run', '--config', inlineConfig, '--run-id', 'i', '--quiet'], { REDIS_URL: `redis://127.0.0.1:${port}` });
    const i = await inline.exit;
    expect(i.code).toBe(0);
    expect(i.stderr.split('\n')[0]).toBe(
      `executing in-process: no Redis reachable at redis://127.0.0.1:${port} (start Redis or set REDIS_URL to use the queue)`,
    );
    const a = RunDirectory.open(path.join(setup.dir, 'out-q', 'q')).readSamples();
    const b = RunDirectory.open(path.join(setup.dir, 'out-i', 'i')).readSamples();
    expect(a).toHaveLength(48);
    expect(a.every((s) => s.status === 'ok')).toBe(true);
    expect(comparable(b)).toEqual(comparable(a));
    // --queue redis makes Redis required.
    const required = perceive(['run', '--config', inlineConfig, '--queue', 'redis', '--quiet'], { REDIS_URL: `redis://127.0.0.1:${port}` });
    const r = await required.exit;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`perceive: error: no Redis at redis://127.0.0.1:${port}`);
    expect(r.stderr).toContain('hint: start Redis');
  }, 300_000);
});
