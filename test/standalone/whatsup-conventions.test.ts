import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { externalMetrics } from '../../src/cli/metrics.js';
import { BenchmarkSpecSchema, parseExperimentConfig } from '../../src/config/experiment.js';
import type { ScoreMatrix } from '../../src/core/item.js';

/**
 * The same What'sUp Controlled A file and the same 4-caption scores, scored in the three
 * conventions; every expected number is worked out by hand in the comments.
 */

let tmp: string;
let annotations: string;
let scoresFile: string;

const cap = (o1: string, o2: string) => ({
  on: `A ${o1} on a ${o2}`,
  under: `A ${o1} under a ${o2}`,
  left: `A ${o1} to the left of a ${o2}`,
  right: `A ${o1} to the right of a ${o2}`,
});

// Rows in the authors' format. The caption order differs per row (the gold one is always first),
// so the 2-way setting keeps different columns. "beer-bottle" is a multi-word object name; the
// cup/table set is incomplete (only left and right).
const bb = cap('beer bottle', 'armchair');
const mug = cap('mug', 'plate');
const cup = cap('cup', 'table');
const ROWS = [
  { image_path: 'data/controlled_images/beer-bottle_on_armchair.jpeg', caption_options: [bb.on, bb.under, bb.left, bb.right] },
  { image_path: 'data/controlled_images/beer-bottle_under_armchair.jpeg', caption_options: [bb.under, bb.on, bb.left, bb.right] },
  { image_path: 'data/controlled_images/beer-bottle_left_of_armchair.jpeg', caption_options: [bb.left, bb.on, bb.under, bb.right] },
  { image_path: 'data/controlled_images/beer-bottle_right_of_armchair.jpeg', caption_options: [bb.right, bb.on, bb.under, bb.left] },
  { image_path: 'data/controlled_images/mug_on_plate.jpeg', caption_options: [mug.on, mug.under, mug.left, mug.right] },
  { image_path: 'data/controlled_images/mug_under_plate.jpeg', caption_options: [mug.under, mug.on, mug.left, mug.right] },
  { image_path: 'data/controlled_images/mug_left_of_plate.jpeg', caption_options: [mug.left, mug.on, mug.under, mug.right] },
  { image_path: 'data/controlled_images/mug_right_of_plate.jpeg', caption_options: [mug.right, mug.on, mug.under, mug.left] },
  { image_path: 'data/controlled_images/cup_left_of_table.jpeg', caption_options: [cup.left, cup.right, cup.on, cup.under] },
  { image_path: 'data/controlled_images/cup_right_of_table.jpeg', caption_options: [cup.right, cup.on, cup.under, cup.left] },
];

// 4 scores per row, in caption_options order.
const SCORES = [
  [0.5, 0.5, 0.1, 0.1], // r0 on:    tie with its opposite → vlms right (first max), 2-way wrong, 4-way wrong
  [0.4, 0.3, 0.6, 0.1], // r1 under: argmax 2 → vlms wrong; 2-way 0.4 > 0.3 right; 4-way wrong
  [0.9, 0.1, 0.1, 0.2], // r2 left:  right in all three
  [0.7, 0.2, 0.2, 0.1], // r3 right: right in all three
  [0.8, 0.1, 0.1, 0.1], // r4 on:    right in all three
  [0.6, 0.2, 0.1, 0.1], // r5 under: right in all three
  [0.3, 0.3, 0.3, 0.3], // r6 left:  all equal → vlms right, 2-way wrong, 4-way wrong
  [0.5, 0.1, 0.1, 0.2], // r7 right: right in all three
  [0.2, 0.8, 0.1, 0.1], // r8 left:  wrong in all three
  [0.9, 0.1, 0.1, 0.1], // r9 right: right in all three
];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'whatsup-conv-'));
  await mkdir(path.join(tmp, 'data/controlled_images'), { recursive: true });
  annotations = path.join(tmp, 'data/controlled_images_dataset.json');
  await writeFile(annotations, JSON.stringify(ROWS));
  for (const r of ROWS) await writeFile(path.join(tmp, r.image_path), 'jpeg bytes');
  scoresFile = path.join(tmp, 'scores.jsonl');
  await writeFile(scoresFile, SCORES.map((s, i) => JSON.stringify({ id: String(i), scores: [s] })).join('\n') + '\n');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const run = (convention: string) => externalMetrics({ benchmark: 'whatsup.controlled_a', annotations, scores: scoresFile, convention, dataDir: tmp });
const head = (r: Awaited<ReturnType<typeof run>>, name: string) => r.metrics.headline.find((h) => h.name === name);

describe("What'sUp Controlled: the same scores in three conventions", () => {
  it('whatsup_vlms: ties with option 0 count as right', async () => {
    const r = await run('whatsup_vlms');
    expect(r.scoreProblems).toEqual([]);
    expect(r.convention).toBe('whatsup_vlms');
    // right: r0 r2 r3 r4 r5 r6 r7 r9 = 8 / 10
    expect(head(r, 'individual')).toMatchObject({ convention: 'whatsup_vlms', correct: 8, total: 10, value: 0.8 });
    // bottle: left+right (on/under broken by r1); mug: both pairs; cup: left wrong → 3 / (10/2)
    expect(head(r, 'pair')).toMatchObject({ correct: 3, total: 5, value: 0.6 });
    // mug only → 1 / (10/4)
    expect(head(r, 'set')).toMatchObject({ correct: 1, total: 2.5, value: 0.4 });
    const per = (r.metrics.details as { perPreposition: Array<{ preposition: string; accuracy: number; count: number }> }).perPreposition;
    expect(per.map((p) => [p.preposition, p.count, p.accuracy])).toEqual([
      ['left_of', 3, 2 / 3],
      ['on', 2, 1],
      ['right_of', 3, 1],
      ['under', 2, 0.5],
    ]);
  });

  it('clip_embeds_2way: gold vs its opposite only, strict, per relation type', async () => {
    const r = await run('clip_embeds_2way');
    expect(r.scoreProblems).toEqual([]);
    // right: r1 r2 r3 r4 r5 r7 r9 = 7 / 10 (r0 and r6 tie → wrong)
    expect(head(r, 'individual')).toMatchObject({ convention: 'clip_embeds_2way', correct: 7, total: 10, value: 0.7 });
    // bottle: left+right; mug: on+under → 2 / (10/2)
    expect(head(r, 'pair')).toMatchObject({ correct: 2, total: 5, value: 0.4 });
    expect(head(r, 'set')).toMatchObject({ correct: 0, total: 2.5, value: 0 });
    const per = (
      r.metrics.details as { perType: Array<{ type: string; individual: { correct: number; accuracy: number }; pair: { correct: number; accuracy: number } }> }
    ).perType;
    // Left Right individual: bottle 2 + mug 1 + cup 1 = 4 / 5; On Under: bottle 1 + mug 2 = 3 / 5; Front Back 0
    expect(per.map((p) => [p.type, p.individual.correct, p.individual.accuracy, p.pair.correct, p.pair.accuracy])).toEqual([
      ['left_right', 4, 0.8, 1, 0.4],
      ['on_under', 3, 0.6, 1, 0.4],
      ['front_back', 0, 0, 0, 0],
    ]);
  });

  it('clip_embeds_4way: option 0 must be the strict maximum', async () => {
    const r = await run('clip_embeds_4way');
    // right: r2 r3 r4 r5 r7 r9 = 6 / 10
    expect(head(r, 'individual')).toMatchObject({ convention: 'clip_embeds_4way', correct: 6, total: 10, value: 0.6 });
    expect(head(r, 'pair')).toMatchObject({ correct: 2, total: 5, value: 0.4 });
    expect(head(r, 'set')).toMatchObject({ correct: 0, value: 0 });
    const per = (r.metrics.details as { perType: Array<{ type: string; individual: { correct: number } }> }).perType;
    expect(per.map((p) => [p.type, p.individual.correct])).toEqual([
      ['left_right', 4],
      ['on_under', 2],
      ['front_back', 0],
    ]);
  });

  it('a 2-way item keeps the gold caption and its opposite, and carries the VLM2Vec question', async () => {
    const fam = benchmarkFamily('whatsup-controlled');
    const spec = BenchmarkSpecSchema.parse({
      name: 'wa',
      format: 'whatsup-controlled',
      annotations,
      data_dir: tmp,
      subset: 'controlled_a',
      convention: 'clip_embeds_2way',
    });
    const { items, failures } = await fam.load(spec);
    expect(failures).toEqual([]);
    const r2 = items[2]!;
    expect(r2.id).toBe('wa/2');
    expect(r2.options).toEqual([bb.left, bb.right]);
    expect(r2.groups).toMatchObject({ convention: 'clip_embeds_2way', set: 'beer-bottle|armchair', slot: 'left', source_options: '0,3' });
    expect(r2.meta.vlm2vec_question).toBe('Is the beer bottle to the left of or to the right of the armchair?');
    expect(items[0]!.meta.vlm2vec_question).toBe('Is the beer bottle at the bottom of the armchair or at the top of the armchair?');
    // judge: a tie is wrong in clip_embeds, right in whatsup_vlms
    expect(fam.judge(items[0]!, [[0.5, 0.5]])).toEqual({ prediction: 0, correct: false });
    const four = await fam.load({ ...spec, convention: 'clip_embeds_4way' });
    expect(four.items[2]!.meta.vlm2vec_question).toBe('Is the beer bottle to the left of, to the right of, on, or under the armchair?');
    const vlms = await fam.load({ ...spec, convention: undefined });
    expect(vlms.items[0]!.groups.convention).toBe('whatsup_vlms');
    expect(fam.judge(vlms.items[0]!, [[0.5, 0.5, 0.1, 0.1]])).toEqual({ prediction: 0, correct: true });
    // A user's 4 scores map onto the 2-way item's columns; a wrong width is a named problem.
    expect(fam.fromExternalScores!(r2, [[0.9, 0.1, 0.1, 0.2]])).toEqual([[0.9, 0.2]]);
    expect(fam.fromExternalScores!(r2, [[0.9, 0.1, 0.1]])).toMatch(/expected 2 or 4/);
  });

  it('metrics through the family equal the CLI path, and missing items leave their pair and set out', async () => {
    const fam = benchmarkFamily('whatsup-controlled');
    const spec = BenchmarkSpecSchema.parse({
      name: 'wa',
      format: 'whatsup-controlled',
      annotations,
      data_dir: tmp,
      subset: 'controlled_a',
      convention: 'clip_embeds_2way',
    });
    const { items } = await fam.load(spec);
    const scores = new Map<string, ScoreMatrix>();
    items.forEach((it, i) => {
      if (i !== 4) scores.set(it.id, fam.fromExternalScores!(it, [SCORES[i]!]) as ScoreMatrix);
    });
    const m = fam.metrics(items, scores);
    // r4 (mug on) missing: 9 present, 6 right; mug's on/under pair and the mug set are excluded.
    expect(m.n).toBe(9);
    expect(m.nMissing).toBe(1);
    expect(m.headline.find((h) => h.name === 'individual')).toMatchObject({ correct: 6, total: 9 });
    // r5 is r4's partner: 8 present pairable items → total 4; only the bottle's left/right pair is right
    expect(m.headline.find((h) => h.name === 'pair')).toMatchObject({ correct: 1, total: 4 });
    expect(m.headline.find((h) => h.name === 'set')).toMatchObject({ correct: 0, total: 6 / 4 });
  });

  it('rows the 2-way setting cannot use fail with a named reason; the others load', async () => {
    const bad = path.join(tmp, 'data/bad.json');
    await writeFile(
      bad,
      JSON.stringify([
        ROWS[2],
        { image_path: 'data/controlled_images/mug_left_of_plate.jpeg', caption_options: ['A mug near a plate', 'b', 'c', 'd'] },
        { image_path: 'data/controlled_images/mug_left_of_plate.jpeg', caption_options: [mug.left, mug.on, mug.under, 'A mug somewhere'] },
      ]),
    );
    const fam = benchmarkFamily('whatsup-controlled');
    const spec = BenchmarkSpecSchema.parse({
      name: 'wa',
      format: 'whatsup-controlled',
      annotations: bad,
      data_dir: tmp,
      subset: 'controlled_a',
      convention: 'clip_embeds_2way',
    });
    const { items, failures } = await fam.load(spec);
    expect(items.map((i) => i.source.row)).toEqual([0]);
    expect(failures.map((f) => f.source.row)).toEqual([1, 2]);
    expect(failures[0]!.reason).toMatch(/bad\.json row 1: field caption_options: .*has none of on, under/);
    expect(failures[1]!.reason).toMatch(/row 2: field caption_options: only 1 caption\(s\) contain "left" or "right"/);
    await expect(fam.load({ ...spec, convention: 'nope' })).rejects.toThrow(/no convention "nope"/);
  });

  it('image paths never leave the data dir: absolute and ".." rows fail, the rest load', async () => {
    const outside = path.join(tmp, 'outside.jpeg');
    await writeFile(outside, 'jpeg bytes');
    const file = path.join(tmp, 'data/escape.json');
    await writeFile(
      file,
      JSON.stringify([
        { image_path: outside.replace('outside', 'mug_left_of_plate'), caption_options: ROWS[6]!.caption_options },
        { image_path: '../mug_left_of_plate.jpeg', caption_options: ROWS[6]!.caption_options },
        { image_path: 'data/controlled_images/../../../mug_left_of_plate.jpeg', caption_options: ROWS[6]!.caption_options },
        ROWS[6],
      ]),
    );
    const fam = benchmarkFamily('whatsup-controlled');
    const spec = BenchmarkSpecSchema.parse({ name: 'wa', format: 'whatsup-controlled', annotations: file, data_dir: tmp, subset: 'controlled_a' });
    const { items, failures } = await fam.load(spec);
    expect(items.map((i) => i.source.row)).toEqual([3]);
    expect(failures.map((f) => f.source.row)).toEqual([0, 1, 2]);
    expect(failures[0]!.reason).toMatch(/row 0: field image_path: is an absolute path/);
    expect(failures[1]!.reason).toMatch(/row 1: field image_path: climbs out of the data dir/);
    expect(failures[2]!.reason).toMatch(/row 2: field image_path: climbs out of the data dir/);
  });
});

describe('benchmark entries in a config', () => {
  it('take a convention, a seed, word_order and extra files resolved against the config folder', () => {
    const c = parseExperimentConfig(
      `
name: t
benchmarks:
  - { name: wa2, format: whatsup-controlled, annotations: a.json, data_dir: data, subset: controlled_a, convention: clip_embeds_2way, word_order: true, seed: 3 }
  - { name: hp, format: hard-positives, annotations: hp/data/r.json, data_dir: hp, subset: replace_rel, extra_files: { swapped: hp/swapped_data/r.json } }
models:
  clip: { kind: clip, path: clipdir }
arms:
  - { arm: clip, model: clip }
`,
      '/cfg/exp.yaml',
    );
    expect(c.benchmarks[0]).toMatchObject({ convention: 'clip_embeds_2way', word_order: true, seed: 3, extra_files: {} });
    expect(c.benchmarks[1]).toMatchObject({ word_order: false, seed: 0, extra_files: { swapped: path.resolve('/cfg/hp/swapped_data/r.json') } });
  });
});
