import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatVerdict } from '../../src/cli/doctor.js';
import { hasError } from '../../src/core/check-verdict.js';
import { BYTES_PER_RUN, BYTES_PER_SAMPLE, diskSpaceVerdict, estimateRunBytes, formatBytes, freeBytes } from '../../src/core/disk-space.js';
import { fileSha256, memoisedSha256 } from '../../src/core/file-hash.js';
import { evictionPolicyVerdict } from '../../src/run/doctor.js';
import { coreBudgetVerdict } from '../../src/execution/core-budget.js';
import { checksumVerdict, modelKey, readPreviousHashes } from '../../src/run/previous-hashes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-doctor-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Redis eviction policy', () => {
  it('is ok only for noeviction, a warning otherwise or when unknown', () => {
    expect(evictionPolicyVerdict('noeviction')).toEqual({ status: 'ok', subject: 'redis policy', message: 'maxmemory-policy noeviction' });
    const lru = evictionPolicyVerdict('allkeys-lru');
    expect(lru.status).toBe('warning');
    expect(lru.message).toBe('maxmemory-policy allkeys-lru: a full Redis would evict queued jobs');
    expect(lru.fix).toContain('maxmemory-policy noeviction');
    expect(evictionPolicyVerdict('volatile-lru').status).toBe('warning');
    const unknown = evictionPolicyVerdict(undefined);
    expect(unknown.status).toBe('warning');
    expect(unknown.message).toBe('maxmemory-policy unknown (INFO memory did not say)');
  });
});

describe('disk space', () => {
  it('estimates a fixed part plus a per-sample part', () => {
    expect(estimateRunBytes(0)).toBe(BYTES_PER_RUN);
    expect(estimateRunBytes(1_000_000)).toBe(BYTES_PER_RUN + 1_000_000 * BYTES_PER_SAMPLE);
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(8 * 1024 ** 3)).toBe('8.0 GB');
  });
  it('is an error when the estimate does not fit, a warning above half of the free space, else ok', () => {
    const gb = 1024 ** 3;
    expect(diskSpaceVerdict({ dir: '/r', free: 1 * gb, needed: 2 * gb })).toMatchObject({
      status: 'error',
      message: '1.0 GB free at /r, the run needs about 2.0 GB',
    });
    expect(diskSpaceVerdict({ dir: '/r', free: 3 * gb, needed: 2 * gb }).status).toBe('warning');
    expect(diskSpaceVerdict({ dir: '/r', free: 4 * gb, needed: 2 * gb })).toEqual({
      status: 'ok',
      subject: 'disk',
      message: '4.0 GB free at /r, the run needs about 2.0 GB',
    });
  });
  it('reads the free space of the nearest existing folder', () => {
    const f = freeBytes(path.join(dir, 'not', 'yet', 'made'));
    expect(f.checked).toBe(dir);
    expect(f.bytes).toBeGreaterThan(0);
  });
});

describe('cores against threads and workers', () => {
  it('warns when several workers of a model run more threads than cores, as perceive run notes it', () => {
    const v = coreBudgetVerdict({ model: 'llava', workers: 2, threads: 2, cores: 2 });
    expect(v.status).toBe('warning');
    expect(v.message).toBe('2 local workers for llava run 4 compute threads on 2 cores; oversubscribed, they slow down sharply');
    expect(v.fix).toBe('set models.llava.threads to 1, or use fewer --workers');
    expect(coreBudgetVerdict({ model: 'llava', workers: 2, threads: 1, cores: 2 }).status).toBe('ok');
  });
  it('warns when one worker has more threads than cores', () => {
    const v = coreBudgetVerdict({ model: 'clip', workers: 1, threads: 8, cores: 2 });
    expect(v.status).toBe('warning');
    expect(v.fix).toBe('set models.clip.threads (or PERCEIVE_THREADS) to 2 or fewer');
  });
  it('counts threads × servers × workers: one worker with servers: 2 of 2 threads oversubscribes 2 cores', () => {
    const v = coreBudgetVerdict({ model: 'llava', workers: 1, servers: 2, threads: 2, cores: 2 });
    expect(v.status).toBe('warning');
    expect(v.message).toBe('1 local worker × 2 servers for llava run 4 compute threads on 2 cores; oversubscribed, they slow down sharply');
    expect(v.fix).toBe('set models.llava.threads to 1, or use fewer models.llava.servers or --workers');
    expect(coreBudgetVerdict({ model: 'llava', workers: 2, servers: 2, threads: 1, cores: 4 })).toEqual({
      status: 'ok',
      subject: 'cores llava',
      message: '2 local workers × 2 servers × 1 thread on 4 cores',
    });
    expect(coreBudgetVerdict({ model: 'llava', workers: 2, servers: 2, threads: 1, cores: 3 }).status).toBe('warning');
  });
  it('is ok within the cores', () => {
    expect(coreBudgetVerdict({ model: 'clip', workers: 1, threads: 2, cores: 2 })).toEqual({
      status: 'ok',
      subject: 'cores clip',
      message: '1 local worker × 2 threads on 2 cores',
    });
  });
});

describe('checksum status', () => {
  const h = 'a'.repeat(64);
  it('says "not yet hashed" for a large file never hashed, naming the run it will be compared with', () => {
    const v = checksumVerdict({ subject: 'model llava', hash: undefined, unhashedBytes: 4 * 1024 ** 3, previous: { runId: 'r1', hash: h } });
    expect(v.status).toBe('ok');
    expect(v.message).toBe('present, not yet hashed (4.0 GB; the run hashes it once, then compares with run r1)');
  });
  it('matches, differs (warning) or has nothing to compare', () => {
    expect(checksumVerdict({ subject: 'm', hash: h, previous: { runId: 'r1', hash: h } }).message).toBe('present, sha256 aaaaaaaaaaaa matches previous run r1');
    const changed = checksumVerdict({ subject: 'm', hash: h, previous: { runId: 'r1', hash: 'b'.repeat(64) } });
    expect(changed.status).toBe('warning');
    expect(changed.message).toBe('sha256 aaaaaaaaaaaa differs from previous run r1 (bbbbbbbbbbbb): its tasks will be computed again');
    expect(checksumVerdict({ subject: 'm', label: 'x.json', hash: h, previous: undefined }).message).toBe(
      'x.json present, sha256 aaaaaaaaaaaa (no earlier run used it)',
    );
    expect(checksumVerdict({ subject: 'm', hash: h, previous: { runId: 'r1', hash: undefined } }).message).toBe(
      'present, sha256 aaaaaaaaaaaa (no earlier run used it)',
    );
  });
  it('reads the latest manifest under the output folder', () => {
    const out = path.join(dir, 'results');
    const write = (id: string, at: string, hash: string): void => {
      fs.mkdirSync(path.join(out, id), { recursive: true });
      fs.writeFileSync(
        path.join(out, id, 'manifest.json'),
        JSON.stringify({
          run_id: id,
          created_at: at,
          models: [{ name: 'llava', kind: 'llama', files: ['/m/a.gguf', '/m/b.gguf'], hash }],
          datasets: [{ annotations: '/d/q.json', annotations_sha256: `${hash}d` }],
        }),
      );
    };
    write('old', '2026-01-01T00:00:00.000Z', 'old-hash');
    write('new', '2026-02-01T00:00:00.000Z', 'new-hash');
    fs.writeFileSync(path.join(out, 'cache.sqlite'), '');
    fs.mkdirSync(path.join(out, 'half-written'));
    const p = readPreviousHashes(out)!;
    expect(p.runId).toBe('new');
    expect(p.models.get(modelKey('llama', ['/m/a.gguf', '/m/b.gguf']))).toBe('new-hash');
    expect(p.models.get(modelKey('clip', ['/m/a.gguf', '/m/b.gguf']))).toBeUndefined();
    expect(p.annotations.get('/d/q.json')).toBe('new-hashd');
    expect(readPreviousHashes(path.join(dir, 'none'))).toBeUndefined();
  });
});

describe('the hash memo', () => {
  it('answers for a file hashed before at its size and mtime, never hashing', async () => {
    const cache = path.join(dir, 'cache');
    const big = path.join(dir, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(17 * 1024 * 1024, 7));
    expect(memoisedSha256(big, cache)).toBeUndefined();
    const digest = await fileSha256(big, cache);
    expect(digest).toBe(
      createHash('sha256')
        .update(Buffer.alloc(17 * 1024 * 1024, 7))
        .digest('hex'),
    );
    expect(memoisedSha256(big, cache)).toBe(digest);
    fs.utimesSync(big, new Date(0), new Date(0)); // a changed mtime: not the file that was hashed
    expect(memoisedSha256(big, cache)).toBeUndefined();
  });
});

describe('doctor lines', () => {
  it('prints the fix under a warning or an error, redacts credentials, and any error fails', () => {
    const err = { status: 'error' as const, subject: 'redis', message: 'no Redis at redis://:pw@h:6379', fix: 'start it' };
    expect(formatVerdict(err)).toBe(`error   ${'redis'.padEnd(26)} no Redis at redis://:***@h:6379\n${' '.repeat(35)}→ start it`);
    expect(formatVerdict({ status: 'ok', subject: 'disk', message: 'fine', fix: 'ignored' })).toBe(`ok      ${'disk'.padEnd(26)} fine`);
    expect(
      hasError([
        { status: 'ok', subject: 'a', message: '' },
        { status: 'warning', subject: 'b', message: '' },
      ]),
    ).toBe(false);
    expect(hasError([err])).toBe(true);
  });
});
