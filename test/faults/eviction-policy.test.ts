import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { killProcessesUsing, logLines, perceive, waitFor } from '../support/queue-harness.js';
import { TestRedis } from '../support/redis-server.js';
import { runCounts } from './fault-run.js';

// CLIP only: no llama-server needed.
const setup = { dir: '' };
let lru: TestRedis;
let plain: TestRedis;
beforeAll(async () => {
  setup.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-fault-evict-'));
  await writeDemoFixtures(path.join(setup.dir, 'fixtures'), { seed: 0 });
  // A shared Redis set up as a cache: BullMQ's jobs and locks may be evicted under memory pressure.
  lru = await TestRedis.start(['--maxmemory-policy', 'allkeys-lru']);
  plain = await TestRedis.start();
});
afterAll(async () => {
  if (setup.dir) killProcessesUsing(setup.dir);
  await lru?.stop();
  await plain?.stop();
  if (setup.dir) fs.rmSync(setup.dir, { recursive: true, force: true });
});

/** A CLIP-only config (no llama-server needed) with the default queue prefix: these Redis servers are the test's own. */
function clipConfig(name: string): { config: string; output: string } {
  const fixtures = path.join(setup.dir, 'fixtures');
  const output = path.join(setup.dir, `out-${name}`);
  const config = path.join(setup.dir, `${name}.yaml`);
  const lines = [
    `name: ${name}`,
    `output: ${output}`,
    'benchmarks:',
    '  - name: whatsup.synthetic',
    '    format: whatsup-controlled',
    `    annotations: ${fixtures}/whatsup/data/controlled_images_dataset.json`,
    `    data_dir: ${fixtures}/whatsup`,
    '    subset: controlled_a',
    'models:',
    '  clip:',
    '    kind: clip',
    `    path: ${fixtures}/tiny-clip`,
    'arms:',
    '  - { arm: clip, model: clip }',
  ];
  fs.writeFileSync(config, `${lines.join('\n')}\n`);
  return { config, output };
}

const POLICY_LINE = /maxmemory-policy is allkeys-lru, not noeviction/;

describe("Redis's eviction policy (BullMQ needs noeviction)", () => {
  it('a worker on another host warns once (console and its log), names the setting and the fix, and SIGTERM drains it with exit 0', async () => {
    const { config } = clipConfig('ev-worker');
    const log = path.join(setup.dir, 'ev-worker.log.jsonl');
    const worker = perceive(['worker', '--config', config, '--model', 'clip', '--log', log], { REDIS_URL: lru.url });
    await waitFor('the worker to be ready', () => logLines(log, 'worker ready').length === 1);
    worker.child.kill('SIGTERM');
    const done = await worker.exit;
    expect(done.code).toBe(0);
    const lines = done.stderr.split('\n').filter((l) => /maxmemory|Eviction policy/i.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(POLICY_LINE);
    expect(lines[0]).toContain('fix: redis-cli CONFIG SET maxmemory-policy noeviction');
    expect(done.stderr).not.toContain('IMPORTANT! Eviction policy');
    const warned = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('maxmemory'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, maxmemoryPolicy: 'allkeys-lru', required: 'noeviction' });
    expect(logLines(log, 'worker stopped')).toHaveLength(1);
    console.log(`[maxmemory-policy allkeys-lru, remote worker] exit ${done.code} after SIGTERM; console: ${lines[0]}`);
  }, 120_000);

  it('a run warns once on the console and once in log.jsonl (its local worker stays quiet), and completes', async () => {
    const { config, output } = clipConfig('ev-run');
    const done = await perceive(['run', '--config', config, '--run-id', 'r', '--queue', 'redis', '--quiet'], { REDIS_URL: lru.url }).exit;
    expect(done.code).toBe(0);
    const lines = done.stderr.split('\n').filter((l) => /maxmemory|Eviction policy/i.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(POLICY_LINE);
    expect(done.stderr).toContain('queue: BullMQ on');
    const logged = fs
      .readFileSync(path.join(output, 'r', 'log.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('maxmemory'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({ role: 'run', maxmemoryPolicy: 'allkeys-lru' });
    expect(runCounts(output, 'r')).toMatchObject({ samples: 24, ok: 24, duplicates: 0 });
    console.log(`[maxmemory-policy allkeys-lru, run] exit ${done.code}; one console line, one log.jsonl line`);
  }, 180_000);

  it("noeviction (redis-server's default) gives no warning", async () => {
    const { config } = clipConfig('ev-plain');
    const log = path.join(setup.dir, 'ev-plain.log.jsonl');
    const worker = perceive(['worker', '--config', config, '--model', 'clip', '--log', log], { REDIS_URL: plain.url });
    await waitFor('the worker to be ready', () => logLines(log, 'worker ready').length === 1);
    worker.child.kill('SIGTERM');
    const done = await worker.exit;
    expect(done.code).toBe(0);
    expect(done.stderr).not.toMatch(/maxmemory|Eviction policy/i);
    expect(fs.readFileSync(log, 'utf8')).not.toContain('maxmemory');
  }, 120_000);
});
