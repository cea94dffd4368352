import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withBuildLock } from '../../src/models/llama/llama-build-lock.js';

describe('one llama.cpp build per cache folder', () => {
  it('a second build waits for the first, then runs; the lock is gone afterwards', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'build-lock-'));
    const events: string[] = [];
    let waited = 0;
    const first = withBuildLock(
      root,
      () => events.push('first waited'),
      async () => {
        events.push('first start');
        await new Promise((r) => setTimeout(r, 1500));
        events.push('first end');
        return 1;
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    const second = withBuildLock(
      root,
      () => {
        waited += 1;
        events.push('second waits');
      },
      async () => {
        events.push('second start');
        return 2;
      },
    );
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(waited).toBe(1);
    expect(events).toEqual(['first start', 'second waits', 'first end', 'second start']);
    expect(fs.existsSync(path.join(root, 'build.lock'))).toBe(false);
  });

  it('a failed build releases the lock', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'build-lock-'));
    await expect(
      withBuildLock(
        root,
        () => {},
        () => Promise.reject(new Error('cmake failed')),
      ),
    ).rejects.toThrow('cmake failed');
    expect(
      await withBuildLock(
        root,
        () => {},
        async () => 'again',
      ),
    ).toBe('again');
  });
});
