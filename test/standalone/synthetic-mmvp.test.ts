import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMmvp } from '../../src/benchmarks/mmvp/loader.js';
import { loadMmvpStatements } from '../../src/benchmarks/mmvp-vlm/loader.js';
import { writeSyntheticMmvp } from '../../src/fixtures/synthetic-mmvp.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'synthetic-mmvp-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function digest(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of ['Questions.csv', 'Questions-clip.csv']) h.update(await readFile(path.join(dir, f)));
  const images = (await readdir(path.join(dir, 'MMVP Images'))).sort();
  for (const f of images) h.update(f).update(await readFile(path.join(dir, 'MMVP Images', f)));
  return h.digest('hex');
}

describe('writeSyntheticMmvp', () => {
  it("writes MMVP's exact format, byte-identical for a seed, different for another", async () => {
    const a = await writeSyntheticMmvp(path.join(tmp, 'a'), { seed: 5 });
    const b = await writeSyntheticMmvp(path.join(tmp, 'b'), { seed: 5 });
    const c = await writeSyntheticMmvp(path.join(tmp, 'c'), { seed: 6 });
    expect(a.count).toBe(12);
    expect(await digest(a.dir)).toBe(await digest(b.dir));
    expect(await digest(a.dir)).not.toBe(await digest(c.dir));
    const lines = (await readFile(a.questionsFile, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('Index,Question,Options,Correct Answer');
    expect(lines[1]).toMatch(/^1,Is the arrow pointing up or down\?,\(a\) Up \(b\) Down,\((a|b)\)$/);
    expect((await readFile(a.clipStatementsFile, 'utf8')).split('\n')[0]).toBe('Question ID,Type,Statement');
  });

  it('loads with the MMVP and Questions-clip.csv loaders; each pair has opposite answers and images that differ', async () => {
    const s = await writeSyntheticMmvp(path.join(tmp, 'load'), { seed: 9, pairs: 8 });
    const { items, failures, errata } = await loadMmvp(s.questionsFile, { dataDir: s.dir });
    expect(failures).toEqual([]);
    expect(errata).toEqual([]);
    expect(items).toHaveLength(16);
    for (let p = 0; p < 8; p++) {
      const [q1, q2] = [items[2 * p], items[2 * p + 1]];
      expect(q1?.meta.question).toBe(q2?.meta.question);
      expect((q1?.correct ?? 0) + (q2?.correct ?? 0)).toBe(1);
      const [r1, r2] = await Promise.all([q1, q2].map((q) => sharp(q?.images[0]).raw().toBuffer()));
      let diff = 0;
      for (let i = 0; i < (r1?.length ?? 0); i++) diff += Math.abs((r1?.[i] ?? 0) - (r2?.[i] ?? 0));
      expect(diff / (r1?.length ?? 1)).toBeGreaterThan(2); // mean absolute pixel difference
    }
    const clip = await loadMmvpStatements(s.clipStatementsFile, { layout: 'mmvp-clip' });
    expect(clip.failures).toEqual([]);
    expect(clip.items).toHaveLength(8);
    // The statement of image i matches the answer of question i: "(a) Up" ↔ "an arrow pointing up".
    const first = items[0];
    const statement = String((clip.items[0]?.meta.statements as string[] | undefined)?.[0]);
    expect(statement.toLowerCase()).toContain(String(first?.options[first.correct]).toLowerCase());
    expect(clip.items[0]?.meta.vlm2vec_question).toBe(first?.meta.question);
  });
});
