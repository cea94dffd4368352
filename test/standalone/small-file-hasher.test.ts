import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SmallFileHasher } from '../../src/core/file-hash.js';

describe('SmallFileHasher (the run hashes every image through one reused buffer)', () => {
  it('gives sha256 of the whole file for empty, small and larger-than-buffer files, one hasher for all', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hasher-'));
    const sizes = [0, 1, 4096, (1 << 20) + 17, 3 * (1 << 20)];
    const hasher = new SmallFileHasher();
    for (const [k, size] of sizes.entries()) {
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + k) & 0xff;
      const file = path.join(dir, `f${k}.bin`);
      fs.writeFileSync(file, bytes);
      expect(await hasher.sha256(file)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(await hasher.sha256(path.join(dir, 'f0.bin'))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    await expect(hasher.sha256(path.join(dir, 'missing.jpg'))).rejects.toThrow(/ENOENT/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
