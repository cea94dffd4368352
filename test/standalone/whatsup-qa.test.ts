import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { qaQuestion } from '../../src/benchmarks/whatsup/vlm2vec-question.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import type { ScoreMatrix } from '../../src/core/item.js';

let tmp: string;

// coco_qa_two_obj.json format: [image_id, correct caption, wrong caption]
const COCO_TWO = [
  [42, 'A photo of a dog to the left of a cat', 'A photo of a dog to the right of a cat'],
  [7, 'A photo of a cup above a table', 'A photo of a cup below a table'],
  [8, 'A photo of a dog to the right of a cat', 'A photo of a dog to the left of a cat'],
  [9, 'A photo of a lamp below a desk', 'A photo of a lamp above a desk'],
];
const SCORES = [
  [0.5, 0.5], // tie: whatsup_vlms right (np.argmax first index), clip_embeds wrong (strict)
  [0.2, 0.9], // wrong in both
  [0.9, 0.1], // right in both
  [0.6, 0.4], // right in both
];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'whatsup-qa-'));
  await mkdir(path.join(tmp, 'data/val2017'), { recursive: true });
  await mkdir(path.join(tmp, 'data/vg_images'), { recursive: true });
  await writeFile(path.join(tmp, 'data/coco_qa_two_obj.json'), JSON.stringify(COCO_TWO));
  for (const [id] of COCO_TWO) await writeFile(path.join(tmp, 'data/val2017', `${String(id).padStart(12, '0')}.jpg`), 'jpeg');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const spec = (over: Record<string, unknown>) =>
  BenchmarkSpecSchema.parse({
    name: 'coco2',
    format: 'whatsup-qa',
    annotations: path.join(tmp, 'data/coco_qa_two_obj.json'),
    data_dir: path.join(tmp, 'data'),
    subset: 'coco_qa_two',
    ...over,
  });

async function metricsFor(convention: string) {
  const fam = benchmarkFamily('whatsup-qa');
  const { items, failures } = await fam.load(spec({ convention }));
  expect(failures).toEqual([]);
  const scores = new Map<string, ScoreMatrix>(items.map((it, i) => [it.id, [SCORES[i]!]]));
  return { items, m: fam.metrics(items, scores) };
}

describe("What'sUp COCO-QA / VG-QA", () => {
  it('loads [image_id, caption, caption] rows with images val2017/<zfill 12>.jpg', async () => {
    const { items } = await metricsFor('whatsup_vlms');
    expect(items).toHaveLength(4);
    expect(items[0]!.images[0]).toBe(path.join(tmp, 'data/val2017/000000000042.jpg'));
    expect(items[0]!.options).toEqual([COCO_TWO[0]![1], COCO_TWO[0]![2]]);
    expect(items.map((i) => i.groups.preposition)).toEqual(['left', 'above', 'right', 'below']);
    expect(items.map((i) => i.groups.gold)).toEqual(['left', 'above', 'right', 'below']);
  });

  it('whatsup_vlms (COCO_QA.evaluate_scores): argmax == 0, per-preposition in sorted order', async () => {
    const { m } = await metricsFor('whatsup_vlms');
    expect(m.convention).toBe('whatsup_vlms');
    expect(m.headline).toEqual([{ name: 'individual', convention: 'whatsup_vlms', value: 0.75, correct: 3, total: 4 }]);
    const per = (m.details as { perPreposition: Array<{ preposition: string; accuracy: number; count: number }> }).perPreposition;
    expect(per.map((p) => [p.preposition, p.accuracy, p.count])).toEqual([
      ['above', 0, 1],
      ['below', 1, 1],
      ['left', 1, 1],
      ['right', 1, 1],
    ]);
  });

  it('clip_embeds (eval_COCO_VG): strict s0 > s1, Left Right and Above Below lines only', async () => {
    const { m } = await metricsFor('clip_embeds');
    expect(m.headline).toEqual([{ name: 'individual', convention: 'clip_embeds', value: 0.5, correct: 2, total: 4 }]);
    const per = (m.details as { perType: Array<{ type: string; correct: number; total: number; accuracy: number }> }).perType;
    expect(per.map((p) => [p.type, p.correct, p.total, p.accuracy])).toEqual([
      ['left_right', 1, 2, 0.5],
      ['above_below', 1, 2, 0.5],
    ]);
  });

  it('the VLM2Vec question: seeded flip of one half, as eval_llava15.py builds it', async () => {
    const { items } = await metricsFor('whatsup_vlms');
    const q = items[0]!.meta;
    const forms = {
      part2: 'Is the dog to the left of a cat or to the right of a cat?',
      part1: 'Is the dog to the right of a cat or to the left of a cat?',
    };
    expect(q.vlm2vec_question).toBe(forms[q.vlm2vec_flipped as 'part1' | 'part2']);
    const again = await benchmarkFamily('whatsup-qa').load(spec({}));
    expect(again.items.map((i) => i.meta.vlm2vec_question)).toEqual(items.map((i) => i.meta.vlm2vec_question));
    // Across seeds both halves get flipped (p < 0.5 → part2).
    const flips = new Set(
      Array.from(
        { length: 20 },
        (_, s) => (qaQuestion(COCO_TWO[0]![1] as string, 'left', { source: 'coco', objects: 'two' }, s, 0) as { flipped: string }).flipped,
      ),
    );
    expect(flips).toEqual(new Set(['part1', 'part2']));
    // COCO two-object "above": part2 starts at "above ".
    expect(['Is the cup above a table or below a table?', 'Is the cup below a table or above a table?']).toContain(items[1]!.meta.vlm2vec_question);
    // one-object files: part2 from "on the "
    const one = qaQuestion('A photo of a dog on the left', 'left', { source: 'vg', objects: 'one' }, 0, 3);
    expect(['Is the dog on the left or on the right?', 'Is the dog on the right or on the left?']).toContain((one as { question: string }).question);
  });

  it('VG one-object: label is the last word; a string image_id cannot climb out of the data dir; missing images fail', async () => {
    const file = path.join(tmp, 'data/vg_qa_one_obj.json');
    await writeFile(
      file,
      JSON.stringify([
        ['2345', 'A photo of a dog on the left', 'A photo of a dog on the right'],
        ['../../secret', 'A photo of a dog on the left', 'A photo of a dog on the right'],
        ['999', 'A photo of a dog on the right', 'A photo of a dog on the left'],
        [5, 'only two'],
      ]),
    );
    await writeFile(path.join(tmp, 'data/vg_images/2345.jpg'), 'jpeg');
    const fam = benchmarkFamily('whatsup-qa');
    const { items, failures } = await fam.load(spec({ name: 'vg1', annotations: file, subset: 'vg_qa_one' }));
    expect(items.map((i) => [i.source.row, i.groups.preposition, i.images[0]])).toEqual([[0, 'left', path.join(tmp, 'data/vg_images/2345.jpg')]]);
    expect(failures.map((f) => f.source.row)).toEqual([1, 2, 3]);
    expect(failures[0]!.reason).toMatch(/vg_qa_one_obj\.json row 1: field \[0\] \(image_id\): image path climbs out of the data dir/);
    expect(failures[1]!.reason).toMatch(/row 2: field \[0\] \(image_id\): image file .*999\.jpg not found/);
    expect(failures[2]!.reason).toMatch(/row 3: field \(row\): .*expected array to have >=3 items/);
  });
});
