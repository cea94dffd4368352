/**
 * The report computes metrics from items rebuilt from samples.jsonl (`analysis/sample-items.ts`:
 * `meta` is empty) plus placeholder items for rows that failed to load (`groups: {}`, no images).
 * MMVP, MMVP-VLM and ARO metrics must give the same figures from those as from the loaded items.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchmarkFamily } from '../../src/benchmarks/benchmark-family.js';
import { aroVgFamily } from '../../src/benchmarks/aro/family.js';
import { mmvpFamily } from '../../src/benchmarks/mmvp/family.js';
import { mmvpVlmFamily } from '../../src/benchmarks/mmvp-vlm/family.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import type { Item, ScoreMatrix } from '../../src/core/item.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'store-items-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function write(rel: string, text: string): Promise<string> {
  const p = path.join(tmp, rel);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
}

/** As the store gives them back: no meta; plus a placeholder for a failed row. */
function fromStore(items: Item[], name: string): Item[] {
  const placeholder: Item = {
    id: `${name}/99`,
    benchmark: name,
    subset: 's',
    images: [],
    options: [],
    correct: 0,
    groups: {},
    source: { file: 'x', row: 99 },
    meta: {},
  };
  return [...items.map((i) => ({ ...i, meta: {} })), placeholder];
}

async function same(family: BenchmarkFamily, spec: unknown, scoreOf: (item: Item, k: number) => ScoreMatrix): Promise<void> {
  const s = BenchmarkSpecSchema.parse(spec);
  const { items } = await family.load(s, { checkImages: false });
  expect(items.length).toBeGreaterThan(0);
  const scores = new Map(items.map((i, k) => [i.id, scoreOf(i, k)] as const));
  const direct = family.metrics(items, scores);
  const stored = family.metrics(fromStore(items, s.name), scores);
  expect(stored.headline).toEqual(direct.headline);
  expect(stored.nMissing).toBe(direct.nMissing + 1);
}

describe('metrics from stored items equal metrics from loaded items', () => {
  it('MMVP (errata: the uncorrected label lives in groups)', async () => {
    const rows = ['Index,Question,Options,Correct Answer'];
    for (let i = 97; i <= 100; i++) rows.push(`${i},Does the elephant have long or short tusks?,(a) Long (b) Short,${i % 2 ? '(a)' : '(b)'}`);
    const annotations = await write('MMVP/Questions.csv', rows.join('\n') + '\n');
    await same(mmvpFamily, { name: 'mmvp', format: 'mmvp', annotations, data_dir: path.dirname(annotations), subset: 'mmvp' }, (_i, k) => [
      [k % 2, 1 - (k % 2)],
    ]);
    const { items } = await mmvpFamily.load(
      BenchmarkSpecSchema.parse({ name: 'mmvp', format: 'mmvp', annotations, data_dir: path.dirname(annotations), subset: 'mmvp' }),
      { checkImages: false },
    );
    const m = mmvpFamily.metrics(fromStore(items, 'mmvp'), new Map(items.map((i) => [i.id, [[1, 0]]] as const)));
    // Always (a): rows 97 (a) ✓, 98 (b) ✗, 99 (a→b) ✗ / ✓ uncorrected, 100 (b→a) ✓ / ✗ uncorrected.
    expect(Object.fromEntries(m.headline.map((h) => [h.name, h.value]))).toEqual({
      individual: 0.5,
      pair: 0,
      individual_uncorrected: 0.5,
      pair_uncorrected: 0,
    });
    expect((m.details as { corrections: unknown[] }).corrections).toHaveLength(2);
  });

  it('MMVP-VLM (gt and layout live in groups)', async () => {
    const annotations = await write('MMVP_VLM/Questions.csv', 'Question ID,Type,Statement\n1,O,a\n2,O,b\n4,O,c\n3,O,d\n');
    await same(mmvpVlmFamily, { name: 'mmvp_vlm', format: 'mmvp-vlm', annotations, data_dir: path.dirname(annotations), subset: 'mmvp_vlm' }, (_i, k) =>
      k === 0
        ? [
            [0.3, 0.1],
            [0.1, 0.3],
          ]
        : [
            [0.1, 0.3],
            [0.3, 0.1],
          ],
    );
  });

  it('ARO VG-Attribution (the class lives in groups)', async () => {
    const row = { image_path: '1.jpg', bbox_x: 0, bbox_y: 0, bbox_w: 1, bbox_h: 1, true_caption: 't', false_caption: 'f' };
    const annotations = await write(
      'aro/visual_genome_attribution.json',
      JSON.stringify(Array.from({ length: 26 }, (_, i) => ({ ...row, attributes: i < 25 ? ['a', 'b'] : ['c', 'd'] }))),
    );
    await same(
      aroVgFamily,
      { name: 'aro.vg_attribution', format: 'aro-vg', annotations, data_dir: path.dirname(annotations), subset: 'vg_attribution' },
      (_i, k) => (k % 3 === 0 ? [[0.5, 0.5]] : [[0.1, 0.9]]),
    );
  });
});
