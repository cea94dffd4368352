import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'synthetic-whatsup-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const annotation = path.join(dir, 'data', 'controlled_images_dataset.json');
  out.set('annotation', await readFile(annotation));
  const imageDir = path.join(dir, 'data', 'controlled_images');
  for (const f of (await readdir(imageDir)).sort()) out.set(f, await readFile(path.join(imageDir, f)));
  return out;
}

describe('writeSyntheticWhatsUp', () => {
  it('writes 24 items (6 pairs x 4 relations) in the real layout and format', async () => {
    const res = await writeSyntheticWhatsUp(path.join(tmp, 'a'), { seed: 1 });
    expect(res.count).toBe(24);
    expect(res.dataDir).toBe(path.join(tmp, 'a'));
    expect(res.annotationFile).toBe(path.join(tmp, 'a', 'data', 'controlled_images_dataset.json'));
    const rows = JSON.parse(await readFile(res.annotationFile, 'utf8')) as Array<{ image_path: string; caption_options: string[] }>;
    expect(rows).toHaveLength(24);
    expect(Object.keys(rows[0]!).sort()).toEqual(['caption_options', 'image_path']);
    expect(rows[2]).toEqual({
      image_path: 'data/controlled_images/mug_on_plate.jpeg',
      caption_options: ['A mug on a plate', 'A mug under a plate', 'A mug to the left of a plate', 'A mug to the right of a plate'],
    });
    expect(rows[3]!.caption_options[0]).toBe('A mug under a plate');
    const relations = rows.map((r) => r.image_path.match(/^data\/controlled_images\/[a-z-]+_(left_of|right_of|on|under)_[a-z-]+\.jpeg$/)?.[1]);
    expect(relations.every((r) => r !== undefined)).toBe(true);
    expect(new Set(rows.map((r) => r.image_path)).size).toBe(24);
    const files = await readdir(path.join(tmp, 'a', 'data', 'controlled_images'));
    expect(files).toHaveLength(24);
    const meta = await sharp(path.join(tmp, 'a', rows[0]!.image_path)).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 256, height: 256 });
  });

  it('is byte-identical for a seed and differs between seeds', async () => {
    await writeSyntheticWhatsUp(path.join(tmp, 's1'), { seed: 42, pairs: 3 });
    await writeSyntheticWhatsUp(path.join(tmp, 's2'), { seed: 42, pairs: 3 });
    const c = await writeSyntheticWhatsUp(path.join(tmp, 's3'), { seed: 43, pairs: 3 });
    expect(c.count).toBe(12);
    const a = await snapshot(path.join(tmp, 's1'));
    const b = await snapshot(path.join(tmp, 's2'));
    const d = await snapshot(path.join(tmp, 's3'));
    expect(a.size).toBe(13);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, v] of a) expect(v.equals(b.get(k)!), k).toBe(true);
    expect(a.get('annotation')!.equals(d.get('annotation')!)).toBe(true);
    expect([...a.keys()].filter((k) => k !== 'annotation').some((k) => !a.get(k)!.equals(d.get(k)!))).toBe(true);
  });

  it('rejects an unsupported number of pairs', async () => {
    await expect(writeSyntheticWhatsUp(path.join(tmp, 'x'), { seed: 1, pairs: 0 })).rejects.toThrow(PerceiveError);
    await expect(writeSyntheticWhatsUp(path.join(tmp, 'x'), { seed: 1, pairs: 99 })).rejects.toThrow(PerceiveError);
  });
});
