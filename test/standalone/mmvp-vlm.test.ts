import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item, ScoreMatrix } from '../../src/core/item.js';
import { loadMmvpStatements, MMVP_VLM_CATEGORIES } from '../../src/benchmarks/mmvp-vlm/loader.js';
import { mmvpT2iMetrics, softmaxFirst, t2iPairOutcome } from '../../src/benchmarks/mmvp-vlm/metrics.js';
import { mmvpClipFamily, mmvpVlmFamily } from '../../src/benchmarks/mmvp-vlm/family.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mmvp-vlm-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function touch(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'jpeg');
}

/** MMVP-VLM Questions.csv (qid, Type, Statement) for `pairs` pairs of one type, with images, plus Questions-llava.csv. */
async function writeVlm(dir: string, pairs: number, extraRows: string[] = []): Promise<string> {
  await mkdir(dir, { recursive: true });
  const lines = ['Question ID,Type,Statement'];
  const llava = ['lndex,Question,Options,Correct Answer'];
  for (let q = 1; q <= 2 * pairs; q++) {
    const type = q <= 30 ? 'Orientation' : 'Presence';
    lines.push(`${q},${type},${q % 2 === 1 ? 'The dog is facing left' : 'The dog is facing right'}`);
    llava.push(`${q},Is the dog facing left or right?,(a) Left (b) Right,${q % 2 === 1 ? '(a)' : '(b)'}`);
    await touch(path.join(dir, 'MLLM_VLM Images', type, `${q}.jpg`));
  }
  lines.push(...extraRows);
  await writeFile(path.join(dir, 'Questions.csv'), lines.join('\n') + '\n');
  await writeFile(path.join(dir, 'Questions-llava.csv'), llava.join('\n') + '\n');
  return path.join(dir, 'Questions.csv');
}

describe('loadMmvpStatements (MMVP-VLM)', () => {
  it("pairs rows, takes both images from the first row's type folder, categories by position, questions from Questions-llava.csv", async () => {
    const dir = path.join(tmp, 'vlm');
    const file = await writeVlm(dir, 16);
    const { items, failures } = await loadMmvpStatements(file, { layout: 'mmvp-vlm', subset: 'v' });
    expect(failures).toEqual([]);
    expect(items).toHaveLength(16);
    expect(items[0]).toMatchObject({
      id: 'v/0',
      images: [path.join(dir, 'MLLM_VLM Images', 'Orientation', '1.jpg'), path.join(dir, 'MLLM_VLM Images', 'Orientation', '2.jpg')],
      options: ['a photo of The dog is facing left', 'a photo of The dog is facing right'],
      correct: 0,
      groups: { pair: '0', category: 'Orientation and Direction' },
      source: { row: 0 },
      meta: { qids: [1, 2], gt: [0, 1], rows: [0, 1], question: 'Is the dog facing left or right?', vlm2vec_question: 'Is the dog facing left or right?' },
    });
    expect(items[14]?.groups.category).toBe('Orientation and Direction');
    expect(items[15]?.groups.category).toBe('Presence of Specific Features');
    expect(items[15]?.images[0]).toBe(path.join(dir, 'MLLM_VLM Images', 'Presence', '31.jpg'));
  });

  it('reports a bad pair (file, row, field), an escaping type folder and an incomplete last pair, and loads the rest', async () => {
    const dir = path.join(tmp, 'vlm-bad');
    const file = await writeVlm(dir, 2, ['5,..,escape', '6,..,escape', 'x7,Orientation,bad qid', '8,Orientation,ok', '9,Orientation,alone']);
    const { items, failures } = await loadMmvpStatements(file, { layout: 'mmvp-vlm' });
    expect(items.map((i) => i.source.row)).toEqual([0, 1]);
    expect(failures.map((f) => f.source.row)).toEqual([2, 3, 4]);
    expect(failures[0]?.reason).toContain('type folder ".." is not a plain folder name');
    expect(failures[1]?.reason).toBe(`pair 3: ${file} row 6 (line 8): field qid: "x7" is not an integer`);
    expect(failures[2]?.reason).toContain('last row has no partner: incomplete pair');
  });

  it('refuses a file whose first line is a data row (the authors would silently skip it as the header)', async () => {
    const dir = path.join(tmp, 'noheader');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'Questions.csv'), '1,Orientation,a\n2,Orientation,b\n');
    await expect(loadMmvpStatements(path.join(dir, 'Questions.csv'), { layout: 'mmvp-vlm' })).rejects.toThrow(/looks like a data row/);
  });

  it('reads Questions-clip.csv (quoted statements) against MMVP Images/<qid>.jpg, questions from MMVP Questions.csv', async () => {
    const dir = path.join(tmp, 'clip');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'Questions-clip.csv'),
      'Question ID,Type,Statement\n9,Unknown,"key ""Z"" on the keyboard"\n10,Unknown,"no key ""Z"" on the keyboard"\n',
    );
    await writeFile(
      path.join(dir, 'Questions.csv'),
      'Index,Question,Options,Correct Answer\n' + Array.from({ length: 10 }, (_, i) => `${i + 1},Q${i + 1}?,(a) Yes (b) No,(a)`).join('\n') + '\n',
    );
    await touch(path.join(dir, 'MMVP Images', '9.jpg'));
    await touch(path.join(dir, 'MMVP Images', '10.jpg'));
    const { items, failures } = await loadMmvpStatements(path.join(dir, 'Questions-clip.csv'), { layout: 'mmvp-clip' });
    expect(failures).toEqual([]);
    expect(items[0]).toMatchObject({
      options: ['a photo of key "Z" on the keyboard', 'a photo of no key "Z" on the keyboard'],
      images: [path.join(dir, 'MMVP Images', '9.jpg'), path.join(dir, 'MMVP Images', '10.jpg')],
      groups: { category: 'Unknown' },
      meta: { gt: [0, 1], question: 'Q9?', vlm2vec_question: 'Q9?' }, // questions[qid1 - 1], as eval_llava15.py
    });
  });
});

function pairItem(pair: number, qids: [number, number], category = 'Orientation and Direction', layout = 'mmvp-vlm'): Item {
  const gt = qids.map((q) => (q % 2 === 1 ? 0 : 1));
  return {
    id: `p/${pair}`,
    benchmark: layout,
    subset: layout,
    images: ['/a.jpg', '/b.jpg'],
    options: ['a photo of x', 'a photo of y'],
    correct: gt[0] as number,
    groups: { pair: String(pair), category },
    source: { file: 'Questions.csv', row: pair },
    meta: { layout, gt, qids },
  };
}

describe('text-to-image rule (CLIP-Embeds eval_MMVP)', () => {
  it("softmaxes each text over the two images with the convention's scale; P > 0.5 picks img1, a tie picks img2", () => {
    // scores[image][text]: text 1 → images (0.30, 0.25); text 2 → images (0.20, 0.22).
    const o = t2iPairOutcome(
      pairItem(0, [1, 2]),
      [
        [0.3, 0.2],
        [0.25, 0.22],
      ],
      100,
    );
    expect(o.p[0]).toBeCloseTo(1 / (1 + Math.exp(-5)), 12); // 0.99331
    expect(o.p[1]).toBeCloseTo(1 / (1 + Math.exp(2)), 12); // 0.11920
    expect(o).toMatchObject({ pred: [0, 1], gt: [0, 1], right: [true, true], pair: true });
    // A tie: P = 0.5, not > 0.5 → img2. With qid 1 (gt img1) that is wrong; with qid 2 it is right.
    const tie = t2iPairOutcome(
      pairItem(0, [1, 2]),
      [
        [0.4, 0.4],
        [0.4, 0.4],
      ],
      100,
    );
    expect(tie).toMatchObject({ p: [0.5, 0.5], pred: [1, 1], right: [false, true], pair: false });
    // VQAScore (eval_vqa_score.py): the probabilities themselves are the logits (scale 1).
    const v = t2iPairOutcome(
      pairItem(0, [1, 2]),
      [
        [0.9, 0.3],
        [0.2, 0.8],
      ],
      1,
    );
    expect(v.p[0]).toBeCloseTo(1 / (1 + Math.exp(-0.7)), 12); // 0.66819
    expect(v.p[1]).toBeCloseTo(1 / (1 + Math.exp(0.5)), 12); // 0.37754
    expect(v.pred).toEqual([0, 1]);
    expect(softmaxFirst(Number.NaN, 1, 100) > 0.5).toBe(false); // NaN → img2
  });

  it('even qids first: gt is img2 for an even qid', () => {
    const o = t2iPairOutcome(
      pairItem(0, [2, 1]),
      [
        [0.1, 0.9],
        [0.9, 0.1],
      ],
      100,
    );
    expect(o).toMatchObject({ gt: [1, 0], pred: [1, 0], pair: true });
  });
});

describe('mmvpT2iMetrics', () => {
  it("pair and individual accuracy overall and per category, with the authors' num_pairs // 9 denominators", () => {
    // 18 pairs: 2 per category (so num_pairs // 9 = 2, the categories' own counts).
    const items = Array.from({ length: 18 }, (_, p) => pairItem(p, [2 * p + 1, 2 * p + 2], MMVP_VLM_CATEGORIES[Math.floor(p / 2)]));
    const right: ScoreMatrix = [
      [0.9, 0.1],
      [0.1, 0.9],
    ];
    const half: ScoreMatrix = [
      [0.9, 0.9],
      [0.1, 0.1],
    ]; // both texts pick img1: text 1 right, text 2 wrong
    const tie: ScoreMatrix = [
      [0.5, 0.5],
      [0.5, 0.5],
    ]; // both pick img2: text 1 wrong, text 2 right
    const scores = new Map<string, ScoreMatrix>();
    items.forEach((it, p) => scores.set(it.id, p === 0 || p === 1 || p === 2 ? right : p === 3 ? half : tie));
    const m = mmvpT2iMetrics(items, scores, 'clip_embeds');
    expect(m.numPairs).toBe(18);
    expect(m.pair).toEqual({ correct: 3, total: 18, accuracy: 3 / 18 });
    expect(m.individual).toEqual({ correct: 6 + 1 + 14, total: 36, accuracy: 21 / 36 });
    expect(m.perCategory[0]).toMatchObject({
      category: 'Orientation and Direction',
      pairs: 2,
      pairCorrect: 2,
      textCorrect: 4,
      pairAccuracy: 1,
      authorsPairAccuracy: 1,
    });
    expect(m.perCategory[1]).toMatchObject({
      pairs: 2,
      pairCorrect: 1,
      textCorrect: 3,
      pairAccuracy: 0.5,
      individualAccuracy: 0.75,
      authorsIndividualAccuracy: 0.75,
    });
    expect(m.perCategory[8]).toMatchObject({ pairCorrect: 0, textCorrect: 2, authorsPairAccuracy: 0 });
    expect(m.categoryMeanPairAccuracy).toBeCloseTo((1 + 0.5) / 9, 12);
    // A missing pair is left out: 17 pairs, and 17 // 9 = 1 is what the authors would divide by.
    scores.delete('p/17');
    const miss = mmvpT2iMetrics(items, scores, 'clip_embeds');
    expect(miss.numPairs).toBe(17);
    expect(miss.missingIds).toEqual(['p/17']);
    expect(miss.perCategory[0]).toMatchObject({ pairAccuracy: 1, authorsPairAccuracy: 2 });
  });
});

describe('MMVP-VLM and mmvp-clip families', () => {
  it('load through the interface with the convention stamped; judge is the pair; metrics name the convention', async () => {
    const dir = path.join(tmp, 'fam');
    const file = await writeVlm(dir, 2);
    const spec = BenchmarkSpecSchema.parse({
      name: 'mmvp_vlm',
      format: 'mmvp-vlm',
      annotations: file,
      data_dir: dir,
      subset: 'mmvp_vlm',
      convention: 'clip_embeds_vqascore',
    });
    const { items, failures } = await mmvpVlmFamily.load(spec);
    expect(failures).toEqual([]);
    expect(items.map((i) => [i.id, i.groups.convention])).toEqual([
      ['mmvp_vlm/0', 'clip_embeds_vqascore'],
      ['mmvp_vlm/1', 'clip_embeds_vqascore'],
    ]);
    expect(
      mmvpVlmFamily.judge(items[0] as Item, [
        [0.9, 0.3],
        [0.2, 0.8],
      ]),
    ).toEqual({ prediction: 0, correct: true });
    const m = mmvpVlmFamily.metrics(
      items,
      new Map([
        [
          'mmvp_vlm/0',
          [
            [0.9, 0.3],
            [0.2, 0.8],
          ],
        ],
      ]),
    );
    expect(m.convention).toBe('clip_embeds_vqascore');
    expect(m.source).toContain('eval_vqa_score.py');
    expect(m.headline.map((h) => [h.name, h.value])).toEqual([
      ['individual', 1],
      ['pair', 1],
    ]);
    expect(m.nMissing).toBe(1);
    expect(mmvpVlmFamily.externalId(items[1] as Item)).toBe('1');
    expect(mmvpClipFamily.conventions.map((c) => c.name)).toEqual(['clip_embeds', 'clip_embeds_vqascore', 'clip_embeds_vlm2vec']);
    expect(mmvpVlmFamily.conventions.map((c) => c.name)).toEqual(['clip_embeds', 'clip_embeds_vqascore', 'clip_embeds_vlm2vec', 'mmvp_vlm']);
  });
});
