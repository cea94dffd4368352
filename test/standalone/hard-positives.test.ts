import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import type { ScoreMatrix } from '../../src/core/item.js';

let tmp: string;

// The published format (hard_positives data/ and swapped_data/ vl_checklist_relations.json).
const row = (id: string, t: string, f: string, dir = 'VG_100K') => ({ image_id: id, true_caption: t, false_caption: f, image_path: `data/${dir}/${id}.jpg` });
const DATA = [
  row('3968', 'chair in conference room', 'chair out of conference room', 'VG_100K_2'),
  row('1159368', 'woman in vest', 'woman out of vest'),
  row('11', 'dog on sofa', 'dog under sofa'),
  row('12', 'cat near box', 'cat far from box'),
];
const SWAPPED = [
  row('3968', 'chair within conference room', 'chair out of conference room', 'VG_100K_2'),
  row('1159368', 'woman within vest', 'woman out of vest'),
  row('11', 'dog upon sofa', 'dog under sofa'),
  row('12', 'cat close to box', 'cat far from box'),
];
// [s(c_n), s(c), s(c_p)]
const SCORES = [
  [0.2, 0.5, 0.4], // c > c_n, c_p > c_n → original, modified, augmented
  [0.3, 0.5, 0.1], // c > c_n > c_p → original, brittle
  [0.4, 0.4, 0.6], // tie c_n == c → not original; c_p > c_n → modified; not augmented (0.4 < 0.4 false); a tie
  [0.9, 0.5, 0.6], // c_n above both
];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hard-pos-'));
  for (const d of ['data', 'swapped_data', 'data/VG_100K', 'data/VG_100K_2']) await mkdir(path.join(tmp, d), { recursive: true });
  await writeFile(path.join(tmp, 'data/vl_checklist_relations.json'), JSON.stringify(DATA));
  await writeFile(path.join(tmp, 'swapped_data/vl_checklist_relations.json'), JSON.stringify(SWAPPED));
  for (const r of DATA) await writeFile(path.join(tmp, r.image_path), 'jpeg');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const spec = (over: Record<string, unknown> = {}) =>
  BenchmarkSpecSchema.parse({
    name: 'hp',
    format: 'hard-positives',
    annotations: path.join(tmp, 'data/vl_checklist_relations.json'),
    data_dir: tmp,
    subset: 'replace_rel',
    ...over,
  });

describe('hard positives (REPLACE)', () => {
  it('pairs data/ and swapped_data/ rows into [c_n, c, c_p] items', async () => {
    const { items, failures } = await benchmarkFamily('hard-positives').load(spec());
    expect(failures).toEqual([]);
    expect(items).toHaveLength(4);
    expect(items[0]).toMatchObject({
      id: 'hp/0',
      options: ['chair out of conference room', 'chair in conference room', 'chair within conference room'],
      correct: 1,
      images: [path.join(tmp, 'data/VG_100K_2/3968.jpg')],
      groups: { convention: 'hard_positives' },
    });
  });

  it('original, augmented accuracy and brittleness as run_eval.py counts them (strict, ties apart)', async () => {
    const fam = benchmarkFamily('hard-positives');
    const { items } = await fam.load(spec());
    const scores = new Map<string, ScoreMatrix>(items.map((it, i) => [it.id, [SCORES[i]!]]));
    const m = fam.metrics(items, scores);
    expect(m.convention).toBe('hard_positives');
    expect(m.headline).toEqual([
      { name: 'original', convention: 'hard_positives', value: 0.5, correct: 2, total: 4 },
      { name: 'augmented', convention: 'hard_positives', value: 0.25, correct: 1, total: 4 },
      { name: 'brittleness', convention: 'hard_positives', value: 0.25, correct: 1, total: 4 },
    ]);
    const d = m.details as { modified: { correct: number }; counts: Record<string, number>; avgDiff: number };
    expect(d.modified.correct).toBe(2);
    expect(d.counts).toEqual({
      bothPositivesAboveNegative: 1,
      originalAboveNegativeAbovePositive: 1,
      positiveAboveNegativeAboveOriginal: 0,
      negativeAboveBoth: 1,
      ties: 1,
    });
    // mean |s(c) − s(c_p)| = (0.1 + 0.4 + 0.2 + 0.1) / 4
    expect(d.avgDiff).toBeCloseTo(0.2, 12);
    expect(fam.judge(items[0]!, [SCORES[0]!])).toEqual({ prediction: 1, correct: true });
    expect(fam.judge(items[2]!, [SCORES[2]!])).toEqual({ prediction: 2, correct: false });
    // The two files' rows side by side (4 columns) give the same numbers when the negative scores agree.
    const four = new Map<string, ScoreMatrix>(items.map((it, i) => [it.id, [[SCORES[i]![0]!, SCORES[i]![1]!, SCORES[i]![0]!, SCORES[i]![2]!]]]));
    expect(fam.metrics(items, four).headline).toEqual(m.headline);
    // A missing item is left out of N.
    scores.delete('hp/3');
    expect(fam.metrics(items, scores).headline[0]).toMatchObject({ correct: 2, total: 3 });
  });

  it('bad rows fail with file, row and field; mismatched swapped rows and unsafe paths fail; the rest load', async () => {
    const d = path.join(tmp, 'bad');
    await mkdir(path.join(d, 'data'), { recursive: true });
    await mkdir(path.join(d, 'swapped_data'), { recursive: true });
    await mkdir(path.join(d, 'data/VG_100K'), { recursive: true });
    await writeFile(path.join(d, 'data/VG_100K/1.jpg'), 'jpeg');
    await writeFile(
      path.join(d, 'data/vl_checklist_attributes.json'),
      JSON.stringify([
        row('1', 'red car', 'blue car'),
        { image_id: '2', false_caption: 'x', image_path: 'data/VG_100K/1.jpg' },
        row('1', 'big dog', 'small dog'),
        { ...row('1', 'a', 'b'), image_path: '/etc/passwd' },
        { ...row('1', 'a', 'b'), image_path: 'data/../../x.jpg' },
        row('404', 'a', 'b'),
      ]),
    );
    await writeFile(
      path.join(d, 'swapped_data/vl_checklist_attributes.json'),
      JSON.stringify([
        row('1', 'crimson car', 'blue car'),
        row('2', 'y', 'x'),
        row('1', 'large dog', 'tiny dog'),
        { ...row('1', 'a', 'b'), image_path: '/etc/passwd' },
        { ...row('1', 'a', 'b'), image_path: 'data/../../x.jpg' },
        row('404', 'a', 'b'),
      ]),
    );
    const { items, failures } = await benchmarkFamily('hard-positives').load(
      spec({ annotations: path.join(d, 'data/vl_checklist_attributes.json'), data_dir: d, subset: 'replace_att' }),
    );
    expect(items.map((i) => i.source.row)).toEqual([0]);
    expect(failures.map((f) => f.source.row)).toEqual([1, 2, 3, 4, 5]);
    expect(failures[0]!.reason).toMatch(/data\/vl_checklist_attributes\.json row 1: field true_caption/);
    expect(failures[1]!.reason).toMatch(/swapped_data\/vl_checklist_attributes\.json row 2: field false_caption "tiny dog" differs/);
    expect(failures[2]!.reason).toMatch(/row 3: field image_path: is an absolute path/);
    expect(failures[3]!.reason).toMatch(/row 4: field image_path: climbs out of the data dir/);
    expect(failures[4]!.reason).toMatch(/row 5: field image_path: image file "data\/VG_100K\/404\.jpg" not found/);
  });
});
