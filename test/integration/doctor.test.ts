import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../../src/config/experiment.js';
import type { CheckVerdict } from '../../src/core/check-verdict.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { diagnose } from '../../src/run/doctor.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';
import { TestRedis } from '../support/redis-server.js';

const BIN = path.resolve('bin/perceive.js');
let dir: string;
let redis: TestRedis;
let lruRedis: TestRedis;

/** The shipped demo config, pointed at fixtures in a temp dir. */
function demoConfig(name: string, edit: (text: string) => string = (t) => t): string {
  const text = fs.readFileSync(path.join(import.meta.dirname, '../../configs/demo.yaml'), 'utf8');
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, edit(text.replaceAll('../.fixtures/', './fixtures/').replace('output: ../results', 'output: ./results')));
  return file;
}

async function collect(file: string, redisUrl: string): Promise<CheckVerdict[]> {
  const env = { ...readEnvironment(), redisUrl, llamaServerUrl: undefined, threads: 2 };
  const out: CheckVerdict[] = [];
  for await (const v of diagnose(loadExperimentConfig(file), env, { startTimeoutMs: 120_000 })) out.push(v);
  return out;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-doctor-'));
  await llamaBinaries();
  await writeDemoFixtures(path.join(dir, 'fixtures'), { seed: 0 });
  redis = await TestRedis.start();
  lruRedis = await TestRedis.start(['--maxmemory-policy', 'allkeys-lru']);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await redis?.stop();
  await lruRedis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('perceive doctor on the demo config (real Redis, real llama-server, real onnxruntime)', () => {
  it('says ok on every line: Redis, its policy, each model and data file, disk, cores, llama-server, each model started', async () => {
    const verdicts = await collect(demoConfig('demo'), redis.url);
    const bad = verdicts.filter((v) => v.status !== 'ok');
    expect(bad).toEqual([]);
    const subjects = verdicts.map((v) => v.subject);
    for (const s of ['redis', 'redis policy', 'disk', 'llama-server']) expect(subjects).toContain(s);
    for (const m of ['llava', 'chatml', 'clip', 'siglip']) {
      expect(subjects).toContain(`model ${m}`);
      expect(subjects).toContain(`cores ${m}`);
      expect(verdicts.find((v) => v.subject === `start ${m}`)?.message).toMatch(/started in [\d.]+ s .* and stopped$/);
    }
    for (const b of ['whatsup.synthetic', 'mmvp.synthetic', 'sugarcrepe.synthetic', 'winoground.synthetic']) {
      expect(verdicts.filter((v) => v.subject === `data ${b}`)).toHaveLength(2);
    }
    expect(verdicts.find((v) => v.subject === 'data whatsup.synthetic' && v.message.includes('items'))?.message).toBe('24 items, 24 images, all present');
    expect(verdicts.find((v) => v.subject === 'redis')?.message).toContain(`reachable at ${redis.url}`);
    expect(verdicts.find((v) => v.subject === 'redis policy')?.message).toBe('maxmemory-policy noeviction');
  }, 600_000);

  it("starts every one of a model's `servers` together, as its worker would", async () => {
    const file = demoConfig('servers', (t) =>
      t.replace('    context_size: 2048\n    slots: 1\n  chatml:', '    context_size: 2048\n    slots: 1\n    servers: 2\n  chatml:'),
    );
    expect(fs.readFileSync(file, 'utf8')).toContain('servers: 2');
    const verdicts = await collect(file, redis.url);
    const start = verdicts.find((v) => v.subject === 'start llava');
    expect(start?.status).toBe('ok');
    expect(start?.message).toMatch(/^llama model started in [\d.]+ s \(2 servers together, 1 slot each\) and stopped$/);
    expect(verdicts.find((v) => v.subject === 'start chatml')?.message).toMatch(/^llama model started in [\d.]+ s \(1 slot\) and stopped$/);
  }, 600_000);

  it('warns about an evicting Redis', async () => {
    const verdicts = await collect(demoConfig('lru'), lruRedis.url);
    expect(verdicts.find((v) => v.subject === 'redis policy')).toMatchObject({
      status: 'warning',
      message: 'maxmemory-policy allkeys-lru: a full Redis would evict queued jobs',
    });
  }, 600_000);

  it('a missing model file is an error naming the file, and the exit code is 1', () => {
    const file = demoConfig('missing', (t) => t.replace('./fixtures/tiny-llava/tiny-llava-mmproj.gguf', './fixtures/tiny-llava/gone-mmproj.gguf'));
    const missing = path.join(dir, 'fixtures/tiny-llava/gone-mmproj.gguf');
    const r = spawnSync(process.execPath, [BIN, 'doctor', '--config', file, '--no-start'], {
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: redis.url },
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    const line = r.stdout.split('\n').find((l) => l.startsWith('error'));
    expect(line).toBe(`error   ${'model llava'.padEnd(26)} missing: ${missing}`);
    expect(r.stdout).toContain('→ fix the path in the config (paths are relative to the config file)');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^not ready: \d+ ok, 0 warnings, 1 error$/);
  }, 180_000);
});
