import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPerceiveError } from '../../src/core/errors.js';
import { fatalRunError } from '../../src/run/fatal-error.js';
import { perceive, uniquePrefix, useQueueTestDir } from '../support/queue-harness.js';
import { TestRedis } from '../support/redis-server.js';
import { faultConfig } from './fault-run.js';

const setup = useQueueTestDir('fault-fatal');
let redis: TestRedis;
beforeAll(async () => {
  redis = await TestRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});

describe('every fatal error ends the process, named, with a non-zero exit (queue mode: Redis connected)', () => {
  it('an output folder that cannot be written: output-unwritable, exit 1, the process ends', async () => {
    const { config } = faultConfig(setup.dir, 'unw', { prefix: uniquePrefix('unw') });
    // A regular file where the output folder should be: nothing can be created under it, even as root.
    const blocker = path.join(setup.dir, 'not-a-folder');
    fs.writeFileSync(blocker, 'x');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/^output: .*$/m, `output: ${blocker}/results`));
    const t = Date.now();
    const done = await perceive(['run', '--config', config, '--quiet'], { REDIS_URL: redis.url }).exit;
    const ms = Date.now() - t;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(`perceive: error: cannot write under the output folder ${blocker}/results (ENOTDIR:`);
    expect(done.stderr).toContain(`hint: make ${blocker}/results writable`);
    expect(done.stderr).not.toContain('unexpected error');
    expect(ms).toBeLessThan(30_000);
    console.log(`[unwritable output, queue mode] exit ${done.code} after ${(ms / 1000).toFixed(1)} s`);
  }, 60_000);

  it('a mistyped --resume id: no-such-run, exit 1, the process ends', async () => {
    const { config, output } = faultConfig(setup.dir, 'typo', { prefix: uniquePrefix('typo') });
    const t = Date.now();
    const done = await perceive(['run', '--config', config, '--resume', 'queue-test-2O261130', '--quiet'], { REDIS_URL: redis.url }).exit;
    const ms = Date.now() - t;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(`perceive: error: cannot resume queue-test-2O261130: ${path.join(output, 'queue-test-2O261130')} has no manifest.json`);
    expect(ms).toBeLessThan(30_000);
    console.log(`[mistyped --resume id, queue mode] exit ${done.code} after ${(ms / 1000).toFixed(1)} s`);
  }, 60_000);

  it('a full disk (SQLite SQLITE_FULL, here from a page limit) is named disk-full, with what is safe and the resume command', () => {
    const file = path.join(setup.dir, 'full.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE t (x BLOB)');
    db.pragma('max_page_count = 8');
    let error: unknown;
    try {
      for (let k = 0; k < 100; k++) db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4096));
    } catch (e) {
      error = e;
    } finally {
      db.close();
    }
    expect((error as { code?: string }).code).toBe('SQLITE_FULL');
    const named = fatalRunError(error, { output: '/data/out', store: '/data/out/cache.sqlite', resume: 'perceive run --resume /data/out/r1' });
    expect(isPerceiveError(named) && named.code).toBe('disk-full');
    expect((named as Error).message).toBe(
      'the disk holding /data/out is full (database or disk is full); the store /data/out/cache.sqlite holds every task that finished',
    );
    expect(isPerceiveError(named) && named.hint).toBe('free some space; then resume with: perceive run --resume /data/out/r1');
    const nospace = fatalRunError(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), {
      output: '/o',
      store: '/o/cache.sqlite',
      resume: undefined,
    });
    expect(isPerceiveError(nospace) && nospace.code).toBe('disk-full');
  });
});
