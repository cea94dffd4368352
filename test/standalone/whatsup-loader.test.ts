import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { ItemSchema } from '../../src/core/item.js';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { whatsupControlledMetrics } from '../../src/benchmarks/whatsup/metrics.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'whatsup-loader-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const captions = (a: string, b: string, first: 'on' | 'under' | 'left' | 'right'): string[] => {
  const all = {
    on: `A ${a} on a ${b}`,
    under: `A ${a} under a ${b}`,
    left: `A ${a} to the left of a ${b}`,
    right: `A ${a} to the right of a ${b}`,
  };
  return [
    all[first],
    ...Object.entries(all)
      .filter(([k]) => k !== first)
      .map(([, v]) => v),
  ];
};

async function touch(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'not really a jpeg');
}

describe('loadWhatsUpControlled', () => {
  it('loads a synthetic set and its items group into complete pairs and sets', async () => {
    const out = path.join(tmp, 'synthetic');
    const { annotationFile, dataDir, count } = await writeSyntheticWhatsUp(out, { seed: 7 });
    const { items, failures } = await loadWhatsUpControlled(annotationFile, { dataDir, subset: 'synthetic' });
    expect(failures).toEqual([]);
    expect(items).toHaveLength(count);
    expect(count).toBe(24);
    for (const item of items) expect(() => ItemSchema.parse(item)).not.toThrow();
    const first = items[0]!;
    expect(first.id).toBe('whatsup.synthetic/0');
    expect(first.benchmark).toBe('whatsup');
    expect(first.correct).toBe(0);
    expect(first.options).toEqual(captions('mug', 'plate', 'left'));
    expect(first.images[0]).toBe(path.join(dataDir, 'data/controlled_images/mug_left_of_plate.jpeg'));
    expect(first.groups).toEqual({
      variant: 'A',
      preposition: 'left_of',
      set: 'mug|plate',
      slot: 'left',
      pair: 'mug|plate|left-right',
    });
    expect(first.meta).toMatchObject({ obj1: 'mug', obj2: 'plate', relation: 'left_of' });
    expect(new Set(items.map((it) => it.groups.set)).size).toBe(6);
    // All correct → every pair and set correct, with the authors' denominators.
    const perfect = new Map(items.map((it) => [it.id, [[1, 0, 0, 0]]]));
    const m = whatsupControlledMetrics(items, perfect);
    expect(m.pair).toMatchObject({ correct: 12, total: 12, accuracy: 1 });
    expect(m.set).toMatchObject({ correct: 6, total: 6, accuracy: 1 });
  });

  it('reads the real format with data/… image paths from the repo root, the data folder or a flat folder', async () => {
    const root = path.join(tmp, 'real');
    const rows = [
      { image_path: 'data/controlled_images/beer-bottle_on_armchair.jpeg', caption_options: captions('beer bottle', 'armchair', 'on') },
      { image_path: 'data/controlled_images/beer-bottle_under_armchair.jpeg', caption_options: captions('beer bottle', 'armchair', 'under') },
      { image_path: 'data/controlled_images/beer-bottle_left_of_armchair.jpeg', caption_options: captions('beer bottle', 'armchair', 'left') },
      { image_path: 'data/controlled_images/beer-bottle_right_of_armchair.jpeg', caption_options: captions('beer bottle', 'armchair', 'right') },
    ];
    const annotationFile = path.join(root, 'data', 'controlled_images_dataset.json');
    await mkdir(path.dirname(annotationFile), { recursive: true });
    await writeFile(annotationFile, JSON.stringify(rows));
    for (const r of rows) await touch(path.join(root, r.image_path));

    const fromRoot = await loadWhatsUpControlled(annotationFile, { dataDir: root, subset: 'controlled_a' });
    expect(fromRoot.failures).toEqual([]);
    expect(fromRoot.items.map((it) => it.id)).toEqual([0, 1, 2, 3].map((i) => `whatsup.controlled_a/${i}`));
    expect(fromRoot.items[0]!.images[0]).toBe(path.join(root, 'data/controlled_images/beer-bottle_on_armchair.jpeg'));
    expect(fromRoot.items.map((it) => it.groups.preposition)).toEqual(['on', 'under', 'left_of', 'right_of']);
    expect(fromRoot.items.map((it) => it.groups.slot)).toEqual(['on', 'under', 'left', 'right']);
    expect(fromRoot.items[0]!.groups.set).toBe('beer-bottle|armchair');
    expect(fromRoot.items[0]!.meta).toMatchObject({ obj1: 'beer bottle', obj2: 'armchair' });

    const fromData = await loadWhatsUpControlled(annotationFile, { dataDir: path.join(root, 'data'), subset: 'controlled_a' });
    expect(fromData.failures).toEqual([]);
    expect(fromData.items).toHaveLength(4);

    const flat = path.join(tmp, 'flat');
    for (const r of rows) await touch(path.join(flat, path.basename(r.image_path)));
    const fromFlat = await loadWhatsUpControlled(annotationFile, { dataDir: flat, subset: 'controlled_a', limit: 2 });
    expect(fromFlat.failures).toEqual([]);
    expect(fromFlat.items.map((it) => it.images[0])).toEqual([
      path.join(flat, 'beer-bottle_on_armchair.jpeg'),
      path.join(flat, 'beer-bottle_under_armchair.jpeg'),
    ]);
  });

  it('reads Controlled B (controlled_clevr) file names', async () => {
    const root = path.join(tmp, 'clevr');
    const annotationFile = path.join(root, 'data', 'controlled_clevr_dataset.json');
    const rows = [
      {
        image_path: 'data/controlled_clevr/book_in-front_of_can.jpeg',
        caption_options: ['A book in front of a can', 'A book behind a can', 'A book to the left of a can', 'A book to the right of a can'],
      },
      {
        image_path: 'data/controlled_clevr/book_behind_can.jpeg',
        caption_options: ['A book behind a can', 'A book in front of a can', 'A book to the left of a can', 'A book to the right of a can'],
      },
    ];
    await mkdir(path.dirname(annotationFile), { recursive: true });
    await writeFile(annotationFile, JSON.stringify(rows));
    for (const r of rows) await touch(path.join(root, r.image_path));
    const { items, failures } = await loadWhatsUpControlled(annotationFile, { dataDir: root, subset: 'controlled_b' });
    expect(failures).toEqual([]);
    expect(items.map((it) => it.groups)).toEqual([
      { variant: 'B', preposition: 'in-front_of', set: 'book|can', slot: 'in-front', pair: 'book|can|in-front-behind' },
      { variant: 'B', preposition: 'behind', set: 'book|can', slot: 'behind', pair: 'book|can|in-front-behind' },
    ]);
  });

  it('turns bad rows into named failures and loads the rest', async () => {
    const root = path.join(tmp, 'bad');
    const annotationFile = path.join(root, 'data', 'controlled_images_dataset.json');
    const good = { image_path: 'data/controlled_images/mug_on_table.jpeg', caption_options: captions('mug', 'table', 'on') };
    const rows = [
      good,
      { image_path: 'data/controlled_images/mug_under_table.jpeg', caption_options: 'A mug under a table' },
      { image_path: 'data/controlled_images/mug_left_of_table.jpeg', caption_options: captions('mug', 'table', 'left') },
      { caption_options: captions('mug', 'table', 'right') },
      { image_path: 'data/controlled_images/mugtable.jpeg', caption_options: captions('mug', 'table', 'right') },
      42,
    ];
    await mkdir(path.dirname(annotationFile), { recursive: true });
    await writeFile(annotationFile, JSON.stringify(rows));
    await touch(path.join(root, good.image_path));
    await touch(path.join(root, 'data/controlled_images/mug_under_table.jpeg'));
    // mug_left_of_table.jpeg deliberately missing

    const { items, failures } = await loadWhatsUpControlled(annotationFile, { dataDir: root, subset: 'controlled_a' });
    expect(items.map((it) => it.id)).toEqual(['whatsup.controlled_a/0']);
    expect(failures.map((f) => f.source)).toEqual([1, 2, 3, 4, 5].map((row) => ({ file: annotationFile, row })));
    for (const f of failures) expect(f.reason).toContain(annotationFile);
    expect(failures[0]!.reason).toMatch(/row 1: field caption_options:/);
    expect(failures[1]!.reason).toMatch(/row 2: field image_path: image file "data\/controlled_images\/mug_left_of_table\.jpeg" not found/);
    expect(failures[2]!.reason).toMatch(/row 3: field image_path:/);
    expect(failures[3]!.reason).toMatch(/row 4: field image_path: file name "mugtable\.jpeg" does not follow/);
    expect(failures[4]!.reason).toMatch(/row 5: field \(row\):/);
  });

  it('throws a PerceiveError naming the file for a missing file, bad JSON or a non-list', async () => {
    const missing = path.join(tmp, 'nope.json');
    await expect(loadWhatsUpControlled(missing, { dataDir: tmp, subset: 'controlled_a' })).rejects.toThrow(PerceiveError);
    await expect(loadWhatsUpControlled(missing, { dataDir: tmp, subset: 'controlled_a' })).rejects.toThrow(missing);

    const broken = path.join(tmp, 'broken.json');
    await writeFile(broken, '[{"image_path": ');
    await expect(loadWhatsUpControlled(broken, { dataDir: tmp, subset: 'controlled_a' })).rejects.toThrow(broken);

    const object = path.join(tmp, 'object.json');
    await writeFile(object, '{"image_path": "data/controlled_images/mug_on_table.jpeg"}');
    const err = await loadWhatsUpControlled(object, { dataDir: tmp, subset: 'controlled_a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PerceiveError);
    expect((err as PerceiveError).code).toBe('whatsup-annotation-invalid');
    expect((err as PerceiveError).message).toContain(object);
  });
});
