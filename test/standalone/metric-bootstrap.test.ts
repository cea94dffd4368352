/**
 * The bootstrap from per-cluster sufficient statistics (src/analysis/metric-bootstrap.ts) against the
 * implementation it replaced, which ran the family's whole metric on every resample
 * (test/support/metric-bootstrap-oracle.ts): the same intervals, to the last bit, for the same seed,
 * on hand-made sets of every family and convention (ties, missing items, rows that failed to load,
 * relabelled pairs, ARO's macro mean and VG-A's < 25 filter, MMVP-VLM's category mean, word order).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapDifferences, bootstrapHeadline } from '../../src/analysis/metric-bootstrap.js';
import { bootstrapClusterFor } from '../../src/analysis/summary.js';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { addWordOrderOption } from '../../src/benchmarks/word-order/word-order.js';
import { BenchmarkSpecSchema, type BenchmarkSpec } from '../../src/config/experiment.js';
import { writeSyntheticMmvp } from '../../src/fixtures/synthetic-mmvp.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import type { Item, ScoreMatrix } from '../../src/core/item.js';
import { mulberry32 } from '../../src/core/seeded-random.js';
import * as oracle from '../support/metric-bootstrap-oracle.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-bootstrap-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Scores drawn from {0, 1, 2} (ties are frequent); `missing` of the items get none. */
function randomScores(
  items: Item[],
  seed: number,
  missing: number,
  shape: (item: Item) => [number, number] = (i) => [i.images.length, i.options.length],
): Map<string, ScoreMatrix> {
  const rand = mulberry32(seed);
  const out = new Map<string, ScoreMatrix>();
  for (const item of items) {
    if (rand() < missing) continue;
    const [rows, cols] = shape(item);
    out.set(
      item.id,
      Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.floor(rand() * 3))),
    );
  }
  return out;
}

/** Both implementations on one family, items and two arms' scores: every interval equal. */
function expectSame(format: BenchmarkSpec['format'], items: Item[], a: Map<string, ScoreMatrix>, b: Map<string, ScoreMatrix>, seed = 3): void {
  const family = benchmarkFamily(format);
  const names = family.metrics(items, a).headline.map((h) => h.name);
  expect(names.length).toBeGreaterThan(0);
  const options = { ...bootstrapClusterFor(format), iterations: 200, seed };
  const fast = bootstrapHeadline(family, items, a, names, options);
  const slow = oracle.bootstrapHeadline(family, items, a, names, options);
  expect(fast).toEqual(slow);
  expect(Object.values(fast).some((iv) => iv !== null)).toBe(true);
  const fastD = bootstrapDifferences(family, items, a, b, names, options);
  const slowD = oracle.bootstrapDifferences(family, items, a, b, names, options);
  expect(fastD).toEqual(slowD);
}

function spec(fields: Partial<BenchmarkSpec> & Pick<BenchmarkSpec, 'name' | 'format' | 'annotations' | 'data_dir' | 'subset'>): BenchmarkSpec {
  return BenchmarkSpecSchema.parse(fields);
}

describe('bootstrap from sufficient statistics = the whole metric on every resample', () => {
  it.each(['whatsup_vlms', 'clip_embeds_2way', 'clip_embeds_4way'])(
    "What'sUp Controlled sets, %s (ties, missing items, a row that failed to load)",
    async (convention) => {
      const set = await writeSyntheticWhatsUp(path.join(tmp, `whatsup-${convention}`), { seed: 2, pairs: 8 });
      const family = benchmarkFamily('whatsup-controlled');
      const { items } = await family.load(
        spec({ name: 'w', format: 'whatsup-controlled', annotations: set.annotationFile, data_dir: set.dataDir, subset: 'controlled_a', convention }),
      );
      // A row that failed to load comes back from the store without groups.
      const all: Item[] = [...items, { ...items[0]!, id: 'w/failed', groups: {}, source: { file: 'x', row: 999 } }];
      expectSame('whatsup-controlled', all, randomScores(all, 1, 0.1), randomScores(all, 2, 0.05));
    },
  );

  it.each(['mmvp', 'lmms_eval'])('MMVP question pairs, %s (Index pairs relabelled per copy)', async (convention) => {
    const mmvp = await writeSyntheticMmvp(path.join(tmp, `mmvp-${convention}`), { seed: 4, pairs: 14 });
    const family = benchmarkFamily('mmvp');
    const { items } = await family.load(spec({ name: 'm', format: 'mmvp', annotations: mmvp.questionsFile, data_dir: mmvp.dir, subset: 'mmvp', convention }));
    expectSame(
      'mmvp',
      items,
      randomScores(items, 5, 0.1, () => [1, 2]),
      randomScores(items, 6, 0.1, () => [1, 2]),
    );
  });

  it.each([
    ['mmvp-clip', 'clip_embeds'],
    ['mmvp-clip', 'mmvp_vlm'],
  ] as const)('%s statement pairs, %s (the category mean recomputed per resample)', async (format, convention) => {
    const mmvp = await writeSyntheticMmvp(path.join(tmp, `${format}-${convention}`), { seed: 7, pairs: 40 });
    const family = benchmarkFamily(format);
    const loaded = await family.load(spec({ name: 'v', format, annotations: mmvp.clipStatementsFile, data_dir: mmvp.dir, subset: format }));
    // evaluate_vlm.py's convention (the mean of per-category pair accuracies) on the same pairs.
    const items = loaded.items.map((i) => ({ ...i, groups: { ...i.groups, convention } }));
    expect(items.length).toBeGreaterThan(10);
    expectSame(
      format,
      items,
      randomScores(items, 8, 0.1, () => [2, 2]),
      randomScores(items, 9, 0.1, () => [2, 2]),
      11,
    );
  });

  const relations = ['on', 'left of', 'holding', 'near', 'with', 'under'];
  const vgItems = (kind: 'relation' | 'attribution', n: number): Item[] =>
    Array.from({ length: n }, (_, k) => ({
      id: `aro/${k}`,
      benchmark: 'aro',
      subset: kind === 'relation' ? 'vg_relation' : 'vg_attribution',
      images: ['/x.jpg'],
      options: ['false caption', 'true caption'],
      correct: 1,
      // Attribution: one pair with 30 items (kept) and others with a handful (dropped when < 25 in a resample).
      groups: (kind === 'relation'
        ? { relation: relations[k % relations.length]!, convention: 'aro' }
        : { attributes: k % 2 === 0 ? 'red_blue' : `pair${k % 5}_x`, kind: 'attribution', convention: 'aro' }) as Record<string, string>,
      source: { file: 'aro.json', row: k },
      meta: {},
    }));

  it.each(['relation', 'attribution'] as const)('ARO VG-%s: the macro mean over classes, and the < 25 filter, per resample', (kind) => {
    const items = vgItems(kind, 60);
    expectSame('aro-vg', items, randomScores(items, 12, 0.1), randomScores(items, 13, 0.1));
  });

  const plainItems = (name: string, n: number, options: number, groups: (k: number) => Record<string, string> = () => ({})): Item[] =>
    Array.from({ length: n }, (_, k) => ({
      id: `${name}/${k}`,
      benchmark: name,
      subset: name,
      images: ['/x.jpg'],
      options: Array.from({ length: options }, (_, i) => `the cat is left of the dog number ${i} ${k}`),
      correct: 0,
      groups: groups(k),
      source: { file: `${name}.json`, row: k },
      meta: {},
    }));

  it('ARO COCO-Order Precision@1, and the word-order figure on top of it', () => {
    const items = plainItems('order', 50, 5, () => ({ convention: 'aro' }));
    expectSame('aro-order', items, randomScores(items, 14, 0.1), randomScores(items, 15, 0.1));
    const shuffled = items.map((i) => addWordOrderOption(i, 3));
    expect(
      benchmarkFamily('aro-order')
        .metrics(shuffled, randomScores(shuffled, 16, 0))
        .headline.map((h) => h.name),
    ).toContain('word_order');
    expectSame('aro-order', shuffled, randomScores(shuffled, 16, 0.1), randomScores(shuffled, 17, 0.1));
  });

  it('hard positives (original, augmented, brittleness)', () => {
    const items = plainItems('hp', 50, 3, () => ({ convention: 'hard_positives' }));
    expectSame('hard-positives', items, randomScores(items, 18, 0.1), randomScores(items, 19, 0.1));
  });

  it.each(['whatsup_vlms', 'clip_embeds'])("What'sUp COCO/VG-QA, %s", (convention) => {
    const golds = ['left', 'right', 'top', 'bottom'];
    const items = plainItems('qa', 48, 2, (k) => ({ convention, preposition: golds[k % 4]!, gold: golds[k % 4]! }));
    expectSame('whatsup-qa', items, randomScores(items, 20, 0.1), randomScores(items, 21, 0.1));
  });

  it('gives no interval (and no crash) when every item is missing', () => {
    const items = vgItems('relation', 10);
    const family = benchmarkFamily('aro-vg');
    const none = new Map<string, ScoreMatrix>();
    expect(bootstrapHeadline(family, items, none, ['macro', 'micro'], { iterations: 50 })).toEqual(
      oracle.bootstrapHeadline(family, items, none, ['macro', 'micro'], { iterations: 50 }),
    );
  });
});
