import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { addWordOrderOption, shuffleCaptionWords } from '../../src/benchmarks/word-order/word-order.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import type { Item, ScoreMatrix } from '../../src/core/item.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'word-order-'));
  await mkdir(path.join(tmp, 'data/val2017'), { recursive: true });
  await writeFile(
    path.join(tmp, 'data/coco_qa_one_obj.json'),
    JSON.stringify([
      [1, 'A photo of a dog on the left', 'A photo of a dog on the right'],
      [2, 'A photo of a cat on the right', 'A photo of a cat on the left'],
      [3, 'A photo of a cup on the left', 'A photo of a cup on the right'],
    ]),
  );
  for (const id of [1, 2, 3]) await writeFile(path.join(tmp, 'data/val2017', `${String(id).padStart(12, '0')}.jpg`), 'jpeg');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('word-order option', () => {
  it('shuffles the words, seeded, never returning the caption itself', () => {
    const a = shuffleCaptionWords('A photo of a dog on the left', 3, 0);
    expect(a).toBe(shuffleCaptionWords('A photo of a dog on the left', 3, 0));
    expect(a).not.toBe('A photo of a dog on the left');
    expect(a!.split(' ').sort()).toEqual('A photo of a dog on the left'.split(' ').sort());
    expect(shuffleCaptionWords('dog', 0, 0)).toBeUndefined();
    expect(shuffleCaptionWords('dog dog dog', 0, 0)).toBeUndefined();
    expect(shuffleCaptionWords('dog cat', 0, 0)).toBe('cat dog');
  });

  it('adds the shuffled caption as the last option; the family metric ignores it; word_order reports on it', async () => {
    const fam = benchmarkFamily('whatsup-qa');
    const spec = BenchmarkSpecSchema.parse({
      name: 'c1',
      format: 'whatsup-qa',
      annotations: path.join(tmp, 'data/coco_qa_one_obj.json'),
      data_dir: path.join(tmp, 'data'),
      subset: 'coco_qa_one',
      word_order: true,
      seed: 5,
    });
    const { items } = await fam.load(spec);
    expect(items.map((i) => i.options.length)).toEqual([3, 3, 3]);
    expect(items[0]!.groups).toMatchObject({ word_order: 'added', word_order_option: '2', word_order_seed: '5' });
    expect(items[0]!.options[2]!.split(' ').sort()).toEqual(items[0]!.options[0]!.split(' ').sort());
    // [correct, wrong, shuffled]
    const scores = new Map<string, ScoreMatrix>([
      ['c1/0', [[0.6, 0.5, 0.4]]], // right; prefers the well-formed caption
      ['c1/1', [[0.4, 0.3, 0.9]]], // right by the authors' rule (shuffle ignored); the shuffle wins the row
      ['c1/2', [[0.2, 0.7, 0.2]]], // wrong; a tie with the shuffle
    ]);
    const m = fam.metrics(items, scores);
    expect(m.headline).toEqual([
      { name: 'individual', convention: 'whatsup_vlms', value: 2 / 3, correct: 2, total: 3 },
      { name: 'word_order', convention: 'word_order', value: 1 / 3, correct: 1, total: 3 },
    ]);
    expect((m.details as { wordOrder: Record<string, number> }).wordOrder).toMatchObject({ ties: 1, picksShuffled: 1, prefersWellFormed: 1 });
    expect(fam.judge(items[1]!, [[0.4, 0.3, 0.9]])).toEqual({ prediction: 0, correct: true });
  });

  it('leaves multi-image items alone', () => {
    const item: Item = {
      id: 'x/0',
      benchmark: 'x',
      subset: 'x',
      images: ['/a.jpg', '/b.jpg'],
      options: ['a dog facing left', 'a dog facing right'],
      correct: 0,
      groups: {},
      source: { file: 'f', row: 0 },
      meta: {},
    };
    expect(addWordOrderOption(item, 0)).toMatchObject({ options: item.options, groups: { word_order: 'not_applicable' } });
  });
});
