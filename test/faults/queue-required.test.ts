import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadPort, perceive, uniquePrefix, useQueueTestDir } from '../support/queue-harness.js';
import { TestRedis } from '../support/redis-server.js';
import { faultConfig, runCounts } from './fault-run.js';

const setup = useQueueTestDir('fault-queue');
let secured: TestRedis;
let tls: TestRedis;
let ca = '';
beforeAll(async () => {
  secured = await TestRedis.start(['--requirepass', 's3cret']);
  const cert = path.join(setup.dir, 'redis.crt');
  const key = path.join(setup.dir, 'redis.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  ca = cert;
  tls = await TestRedis.start([], { cert, key });
});
afterAll(async () => {
  await secured?.stop();
  await tls?.stop();
});

describe('--workers 0 requires the queue; a wrong password is named; rediss:// works', () => {
  it('--workers 0 with no Redis: an error, never a silent in-process run', async () => {
    const { config, output } = faultConfig(setup.dir, 'w0', { prefix: uniquePrefix('w0') });
    const port = await deadPort();
    const done = await perceive(['run', '--config', config, '--run-id', 'w0', '--workers', '0', '--quiet'], { REDIS_URL: `redis://127.0.0.1:${port}` }).exit;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(`perceive: error: --workers 0 needs the queue (workers on other hosts serve it): no Redis at redis://127.0.0.1:${port}:`);
    expect(done.stderr).not.toContain('executing in-process');
    expect(fs.existsSync(path.join(output, 'cache.sqlite'))).toBe(false);
    console.log(`[--workers 0, no Redis] exit ${done.code}; nothing computed in-process (no store written)`);
  }, 60_000);

  it('a wrong password says "authentication failed" (with --workers 0 and in the default auto mode alike)', async () => {
    const { config, output } = faultConfig(setup.dir, 'pw', { prefix: uniquePrefix('pw') });
    const url = `redis://:wrong@127.0.0.1:${secured.port}`;
    for (const workers of ['0', '1']) {
      const done = await perceive(['run', '--config', config, '--run-id', `pw${workers}`, '--workers', workers, '--quiet'], { REDIS_URL: url }).exit;
      expect(done.code).toBe(1);
      expect(done.stderr).toContain(`perceive: error: Redis at redis://:***@127.0.0.1:${secured.port}: authentication failed (WRONGPASS`);
      expect(done.stderr).toContain('hint: check the password in REDIS_URL');
      expect(done.stderr).not.toContain('start Redis');
      expect(done.stderr).not.toContain('executing in-process');
      expect(done.stderr).not.toContain('wrong');
    }
    expect(fs.existsSync(path.join(output, 'cache.sqlite'))).toBe(false);
    console.log('[wrong Redis password] exit 1 with "authentication failed", --workers 0 and 1; nothing computed in-process');
  }, 60_000);

  it('rediss:// (TLS, a private CA through NODE_EXTRA_CA_CERTS): the run goes through the queue to the end', async () => {
    const { config, output } = faultConfig(setup.dir, 'tls', { prefix: uniquePrefix('tls') });
    const t = Date.now();
    const done = await perceive(['run', '--config', config, '--run-id', 'tls', '--queue', 'redis', '--quiet'], { REDIS_URL: tls.url, NODE_EXTRA_CA_CERTS: ca })
      .exit;
    const ms = Date.now() - t;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain(`queue: BullMQ on rediss://localhost:${tls.port}`);
    const c = runCounts(output, 'tls');
    expect(c).toMatchObject({ samples: 48, ok: 48, results: 48, duplicates: 0, recomputed: 0 });
    console.log(`[rediss://] exit ${done.code}; samples ${c.samples}; stored ${c.results}; duplicates ${c.duplicates}; wall ${(ms / 1000).toFixed(1)} s`);
  }, 180_000);
});
