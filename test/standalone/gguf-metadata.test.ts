import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { readGgufMetadata } from '../../src/models/llama/gguf-metadata.js';
import { ItemPairs, pairKey } from '../../src/core/item-pairs.js';
import type { Item } from '../../src/core/item.js';

let dir: string;
let paths: { model: string; mmproj: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'perceive-ggufmeta-'));
  paths = await writeTinyLlava(join(dir, 'a'), { seed: 0 });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('GGUF metadata for the manifest (node-llama-cpp readGgufFileInfo)', () => {
  it('reads architecture, quantisation, parameter count and sizes of the tiny pair', async () => {
    const text = await readGgufMetadata(paths.model);
    expect(text).toMatchObject({
      architecture: 'llama',
      quantisation: 'ALL_F32',
      fileType: 0,
      parameters: 176064,
      tensorCount: 21,
      embeddingLength: 64,
      blockCount: 2,
      contextLength: 4096,
      ggufVersion: 3,
    });
    const mmproj = await readGgufMetadata(paths.mmproj);
    expect(mmproj).toMatchObject({ architecture: 'clip', quantisation: 'MOSTLY_F16', parameters: 42816, hasChatTemplate: false });
  });

  it('names the file when it is not GGUF', async () => {
    const bad = join(dir, 'bad.gguf');
    await writeFile(bad, 'not a gguf file at all');
    await expect(readGgufMetadata(bad)).rejects.toMatchObject({ code: 'bad-gguf', message: expect.stringContaining(bad) });
  });
});

describe('image pairs of single-image items', () => {
  const item = (id: string, image: string, pair?: string, subset = 's'): Item => ({
    id,
    benchmark: 'b',
    subset,
    images: [image],
    options: ['x', 'y'],
    correct: 0,
    groups: pair === undefined ? {} : { pair },
    source: { file: 'f', row: 0 },
    meta: {},
  });
  it('pairs exactly two items with one key and different images, in the given order', () => {
    const pairs = new ItemPairs();
    const items = [
      item('a', '1.jpg', '0'),
      item('b', '2.jpg', '0'),
      item('c', '3.jpg', '1'),
      item('d', '4.jpg', '2'),
      item('e', '4.jpg', '2'),
      item('f', '5.jpg', '0', 'other'),
    ];
    pairs.add(items);
    expect(pairs.of(items[0]!)).toMatchObject({ position: 0, partner: { id: 'b' } });
    expect(pairs.of(items[1]!)).toMatchObject({ position: 1, partner: { id: 'a' } });
    expect(pairs.of(items[2]!)).toBeUndefined(); // alone
    expect(pairs.of(items[3]!)).toBeUndefined(); // same image twice
    expect(pairs.of(items[5]!)).toBeUndefined(); // another subset
    expect(pairKey(items[0]!)).toBe(pairKey(items[1]!));
    expect(pairKey(item('g', '6.jpg'))).toBeUndefined();
  });
});
