import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultStore } from '../../src/store/result-store.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { logLines, perceive, uniquePrefix, useQueueTestDir, waitFor, writeQueueConfig } from '../support/queue-harness.js';

const setup = useQueueTestDir('queue-workers');
const prefix = uniquePrefix('datadirs');
setup.prefixes.push(prefix);

describe('workers on "other hosts": each with its own PERCEIVE_DATA_DIR', () => {
  it('two workers share the work; the one whose copy of an image differs fails that bundle with the hash-mismatch reason', async () => {
    const output = path.join(setup.dir, 'out');
    // One job per pair (no merging of small bundles), so the changed image fails exactly its pair.
    const config = writeQueueConfig(path.join(setup.dir, 'c.yaml'), {
      fixtures: path.join(setup.dir, 'fixtures'),
      output,
      prefix,
      arms: ['clip'],
      minBundleTasks: 1,
    });
    // Two copies of the data root (the run's data root is the benchmark's data_dir).
    const dataA = path.join(setup.dir, 'host-a');
    const dataB = path.join(setup.dir, 'host-b');
    fs.cpSync(path.join(setup.dir, 'fixtures', 'whatsup'), dataA, { recursive: true });
    fs.cpSync(path.join(setup.dir, 'fixtures', 'whatsup'), dataB, { recursive: true });
    const rows = JSON.parse(fs.readFileSync(path.join(dataB, 'data', 'controlled_images_dataset.json'), 'utf8')) as Array<{ image_path: string }>;
    const first = rows[0]!.image_path;
    // Host B's copy of the first image is another valid image: it decodes, but its bytes differ.
    fs.copyFileSync(path.join(dataB, rows[1]!.image_path), path.join(dataB, first));

    const run = perceive(['run', '--config', config, '--run-id', 'dd', '--workers', '0', '--quiet']);
    await waitFor('enqueue', () => run.err().includes('enqueued 12 bundles'));
    const logB = path.join(setup.dir, 'b.log.jsonl');
    const logA = path.join(setup.dir, 'a.log.jsonl');
    const slow = { PERCEIVE_TEST_TASK_DELAY_MS: '250' };
    // B starts first and takes the first bundle (FIFO): the one whose image its copy changed.
    const b = perceive(['worker', '--config', config, '--model', 'clip', '--concurrency', '1', '--log', logB, '--quiet'], {
      ...slow,
      PERCEIVE_DATA_DIR: dataB,
    });
    await waitFor('worker b to take the first bundle', () => logLines(logB, 'bundle failed (unrecoverable)').length >= 1);
    const a = perceive(['worker', '--config', config, '--model', 'clip', '--concurrency', '1', '--log', logA, '--quiet'], {
      ...slow,
      PERCEIVE_DATA_DIR: dataA,
    });
    const done = await run.exit;
    expect(done.code).toBe(0);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    await Promise.all([a.exit, b.exit]);

    const samples = RunDirectory.open(path.join(output, 'dd')).readSamples();
    expect(samples).toHaveLength(24);
    // The first bundle is row 0's pair (What'sUp groups.pair): both of its items fail, with the reason.
    const pairOf0 = samples.find((s) => s.item === 'whatsup.synthetic/0')!.groups.pair;
    const pairItems = samples.filter((s) => s.groups.pair === pairOf0).map((s) => s.item);
    expect(pairItems).toHaveLength(2);
    const failed = samples.filter((s) => s.status === 'failed');
    expect(failed.map((s) => s.item).sort()).toEqual(pairItems.sort());
    for (const f of failed) {
      expect(f.error!.code).toBe('image-hash-mismatch');
      expect(f.error!.message).toContain(first);
      expect(f.error!.message).toContain("this host's copy of the data differs");
    }
    // Samples name the run host's paths, whatever the worker's data setup.dir.
    expect(samples.every((s) => s.images.every((i) => i.path.startsWith(path.join(setup.dir, 'fixtures'))))).toBe(true);

    const byA = logLines(logA, 'task computed').length;
    const byB = logLines(logB, 'task computed').length;
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    expect(byA + byB).toBe(22);
    const store = ResultStore.open(output);
    const perTask = store.computationsPerTask();
    store.close();
    expect(perTask.size).toBe(22);
    console.log(`[two data dirs] worker A computed ${byA} tasks, worker B ${byB}; 1 bundle (2 tasks) failed: ${failed[0]!.error!.code}`);
  }, 300_000);
});
