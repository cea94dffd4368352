import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import type { Item, ScoreMatrix } from '../../src/core/item.js';
import { applyErratum, MMVP_ERRATA_V1 } from '../../src/benchmarks/mmvp/errata.js';
import { loadMmvp, normalizeMmvpAnswer, parseMmvpOptions } from '../../src/benchmarks/mmvp/loader.js';
import { mmvpMetrics } from '../../src/benchmarks/mmvp/metrics.js';
import { mmvpFamily } from '../../src/benchmarks/mmvp/family.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mmvp-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function touch(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'jpeg bytes are not read by the loader');
}

/** A Questions.csv in MMVP's exact format, with its images, rows given as [Index, Question, Options, Correct Answer]. */
async function writeMmvp(dir: string, rows: string[][], header = 'Index,Question,Options,Correct Answer', images = rows.length): Promise<string> {
  await mkdir(dir, { recursive: true });
  const csv = [header, ...rows.map((r) => r.map((c) => (c.includes(',') || c.includes('"') ? `"${c.replace(/"/g, '""')}"` : c)).join(','))].join('\n') + '\n';
  const file = path.join(dir, 'Questions.csv');
  await writeFile(file, csv);
  for (let i = 1; i <= images; i++) await touch(path.join(dir, 'MMVP Images', `${i}.jpg`));
  return file;
}

describe('MMVP options and answers (lmms-eval _parse_options, _normalize_answer)', () => {
  it('parses "(a) X (b) Y" and normalises "(a)"/"(b)"', () => {
    expect(parseMmvpOptions('(a) Up (b) Down')).toEqual(['Up', 'Down']);
    expect(parseMmvpOptions('(a) Facing forward (b) In profile')).toEqual(['Facing forward', 'In profile']);
    expect(parseMmvpOptions('Up or Down')).toEqual([]);
    expect(normalizeMmvpAnswer('(a)')).toBe(0);
    expect(normalizeMmvpAnswer(' (b) ')).toBe(1);
    expect(normalizeMmvpAnswer('b')).toBe(1);
    expect(normalizeMmvpAnswer('(c)')).toBeUndefined();
  });
});

describe('MMVP errata table', () => {
  it('applies 99/100 and 279/280 only when the question and the original label match', () => {
    expect(MMVP_ERRATA_V1.version).toBe('mmvp-errata-v1');
    expect(applyErratum(MMVP_ERRATA_V1, 99, 'Does the elephant have long or short tusks?', 0)).toMatchObject({
      status: 'applied',
      originalCorrect: 0,
      correctedCorrect: 1,
    });
    expect(applyErratum(MMVP_ERRATA_V1, 280, 'Is the elderly person standing or sitting in the picture?', 1)).toMatchObject({
      status: 'applied',
      correctedCorrect: 0,
    });
    // lmms-lab-eval/MMVP already holds the verified label: nothing to change, the uncorrected figure keeps MMVP's.
    expect(applyErratum(MMVP_ERRATA_V1, 100, 'Does the elephant have long or short tusks?', 0)).toMatchObject({
      status: 'already_corrected',
      originalCorrect: 1,
      correctedCorrect: 0,
    });
    expect(applyErratum(MMVP_ERRATA_V1, 99, 'Is the dog facing left or right?', 0)).toMatchObject({ status: 'question_mismatch', correctedCorrect: 0 });
    expect(applyErratum(MMVP_ERRATA_V1, 5, 'anything', 0)).toBeUndefined();
  });
});

describe('loadMmvp', () => {
  it('reads pairs of consecutive rows, the image by row position, applies errata, reports bad rows and goes on', async () => {
    const dir = path.join(tmp, 'basic');
    const rows: string[][] = [
      ['1', "Are the butterfly's wings closer to being open or closed?", '(a) Open (b) Closed', '(a)'],
      ['2', "Are the butterfly's wings closer to being open or closed?", '(a) Open (b) Closed', '(b)'],
      ['3', 'Is the arrow pointing up or down?', '(a) Up or Down', '(a)'], // bad Options
      ['4', 'Is the arrow pointing up or down?', '(a) Up (b) Down', '(c)'], // bad Correct Answer
      ['5', 'Is the dog facing left or right?', '(a) Left (b) Right', '(b)'],
    ];
    const file = await writeMmvp(dir, rows, 'Index,Question,Options,Correct Answer', 4); // no image 5.jpg
    const { items, failures } = await loadMmvp(file, { dataDir: dir, subset: 't' });
    expect(items.map((i) => i.id)).toEqual(['t/0', 't/1']);
    expect(items[0]).toMatchObject({ options: ['Open', 'Closed'], correct: 0, groups: { pair: '0', index_pair: '0' } });
    expect(items[1]?.images[0]).toBe(path.join(dir, 'MMVP Images', '2.jpg'));
    expect(items[1]?.meta.question).toBe("Are the butterfly's wings closer to being open or closed?");
    expect(failures.map((f) => f.source.row)).toEqual([2, 3, 4]);
    expect(failures[0]?.reason).toBe(`${file} row 2 (line 4): field Options: "(a) Up or Down" does not parse as "(a) X (b) Y" (got 1 options)`);
    expect(failures[1]?.reason).toContain('field Correct Answer: "(c)" is neither (a) nor (b)');
    expect(failures[2]?.reason).toContain('field (image): image 5.jpg not found');
  });

  it('accepts the "lndex" header, applies the errata by Index and keeps the original label in meta', async () => {
    const dir = path.join(tmp, 'errata');
    const rows: string[][] = [];
    for (let i = 1; i <= 100; i++) {
      const tusks = i === 99 || i === 100;
      rows.push([String(i), tusks ? 'Does the elephant have long or short tusks?' : 'Q?', '(a) Long (b) Short', i % 2 === 1 ? '(a)' : '(b)']);
    }
    const file = await writeMmvp(dir, rows, 'lndex,Question,Options,Correct Answer');
    const { items, errata } = await loadMmvp(file, { dataDir: dir });
    expect(errata.map((e) => [e.index, e.status])).toEqual([
      [99, 'applied'],
      [100, 'applied'],
    ]);
    expect(items[98]).toMatchObject({ correct: 1, meta: { original_correct: 0, erratum: { table: 'mmvp-errata-v1', status: 'applied' } } });
    expect(items[99]).toMatchObject({ correct: 0, meta: { original_correct: 1 } });
    const none = await loadMmvp(file, { dataDir: dir, errata: null });
    expect(none.items[98]?.correct).toBe(0);
  });

  it("refuses a file whose header is not MMVP's", async () => {
    const dir = path.join(tmp, 'header');
    const file = await writeMmvp(dir, [['1', 'Q?', '(a) A (b) B', '(a)']], 'qid,Type,Statement');
    await expect(loadMmvp(file, { dataDir: dir })).rejects.toBeInstanceOf(PerceiveError);
  });

  it("finds images in CLIP-Embeds' MMVP_Images folder too, and checkImages false skips looking", async () => {
    const dir = path.join(tmp, 'underscore');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'Questions.csv');
    await writeFile(file, 'Index,Question,Options,Correct Answer\n1,Q?,(a) A (b) B,(a)\n2,Q?,(a) A (b) B,(b)\n');
    await touch(path.join(dir, 'MMVP_Images', '1.jpg'));
    const { items, failures } = await loadMmvp(file, { dataDir: dir });
    expect(items[0]?.images[0]).toBe(path.join(dir, 'MMVP_Images', '1.jpg'));
    expect(failures).toHaveLength(1);
    expect((await loadMmvp(file, { dataDir: dir, checkImages: false })).items).toHaveLength(2);
  });
});

function item(row: number, correct: number, original = correct, index = row + 1): Item {
  return {
    id: `m/${row}`,
    benchmark: 'mmvp',
    subset: 'mmvp',
    images: [`/x/${row + 1}.jpg`],
    options: ['A', 'B'],
    correct,
    groups: { pair: String(Math.floor(row / 2)), index_pair: String(Math.floor((index - 1) / 2)) },
    source: { file: 'Questions.csv', row },
    meta: { index, original_correct: original },
  };
}

describe('mmvpMetrics (gpt_grader.py pairs, lmms-eval accuracy and pairs)', () => {
  it('computes question and pair accuracy, corrected and uncorrected, with the first-maximum tie rule', () => {
    // Pair 0: labels (a),(b). Pair 1: labels (a),(b) in the file, corrected to (b),(a) (an erratum).
    // Pair 2: a single trailing row (incomplete).
    const items = [item(0, 0), item(1, 1), item(2, 1, 0), item(3, 0, 1), item(4, 0)];
    const scores = new Map<string, ScoreMatrix>([
      ['m/0', [[0.9, 0.1]]], // picks (a): right
      ['m/1', [[0.5, 0.5]]], // tie → (a): wrong (label (b))
      ['m/2', [[0.2, 0.7]]], // picks (b): right after correction, wrong before
      ['m/3', [[0.6, 0.6]]], // tie → (a): right after correction, wrong before
      ['m/4', [[0.1, 0.3]]], // picks (b): wrong
    ]);
    const m = mmvpMetrics(items, scores);
    // corrected: right = m/0, m/2, m/3 → 3/5; pairs: pair 0 (right, wrong) ✗, pair 1 (right, right) ✓; pair 2 incomplete → 1/2.
    expect(m.corrected.questions).toEqual({ correct: 3, total: 5, accuracy: 0.6 });
    expect(m.corrected.pairs).toEqual({ correct: 1, total: 2, accuracy: 0.5 });
    expect(m.corrected.indexPairs).toEqual({ correct: 1, total: 2, accuracy: 0.5 });
    // uncorrected: right = m/0 only → 1/5; no pair right.
    expect(m.uncorrected.questions).toEqual({ correct: 1, total: 5, accuracy: 0.2 });
    expect(m.uncorrected.pairs).toEqual({ correct: 0, total: 2, accuracy: 0 });
    expect(m.corrections).toEqual([
      { id: 'm/2', index: 3, original: 0, corrected: 1 },
      { id: 'm/3', index: 4, original: 1, corrected: 0 },
    ]);
  });

  it('lmms-eval pairs by the Index column, gpt_grader by row position; a missing member drops its pair', () => {
    // Index column 1, 3, 2, 4: lmms-eval pairs rows (0, 2) and (1, 3); gpt_grader pairs (0, 1) and (2, 3).
    const items = [item(0, 0, 0, 1), item(1, 1, 1, 3), item(2, 0, 0, 2), item(3, 1, 1, 4)];
    const scores = new Map<string, ScoreMatrix>([
      ['m/0', [[1, 0]]], // right
      ['m/1', [[1, 0]]], // wrong
      ['m/2', [[1, 0]]], // right
      ['m/3', [[1, 0]]], // wrong
    ]);
    const m = mmvpMetrics(items, scores);
    expect(m.corrected.pairs).toEqual({ correct: 0, total: 2, accuracy: 0 }); // (0,1) ✗, (2,3) ✗
    expect(m.corrected.indexPairs).toEqual({ correct: 1, total: 2, accuracy: 0.5 }); // Index pairs (0,2) ✓, (1,3) ✗
    scores.delete('m/3');
    const missing = mmvpMetrics(items, scores);
    expect(missing.nMissing).toBe(1);
    expect(missing.corrected.questions).toEqual({ correct: 2, total: 3, accuracy: 2 / 3 });
    expect(missing.corrected.pairs).toEqual({ correct: 0, total: 1, accuracy: 0 });
  });
});

describe('mmvpFamily', () => {
  it('loads through the interface, judges by the first maximum, and reports corrected and uncorrected figures', async () => {
    const dir = path.join(tmp, 'family');
    const file = await writeMmvp(dir, [
      ['1', 'Is the arrow pointing up or down?', '(a) Up (b) Down', '(a)'],
      ['2', 'Is the arrow pointing up or down?', '(a) Up (b) Down', '(b)'],
    ]);
    const spec = BenchmarkSpecSchema.parse({ name: 'mmvp', format: 'mmvp', annotations: file, data_dir: dir, subset: 'mmvp' });
    const { items } = await mmvpFamily.load(spec);
    expect(items.map((i) => [i.id, i.groups.convention])).toEqual([
      ['mmvp/0', 'mmvp'],
      ['mmvp/1', 'mmvp'],
    ]);
    expect(mmvpFamily.judge(items[1] as Item, [[0.4, 0.4]])).toEqual({ prediction: 0, correct: false });
    const metrics = mmvpFamily.metrics(
      items,
      new Map([
        ['mmvp/0', [[2, 1]]],
        ['mmvp/1', [[1, 2]]],
      ]),
    );
    expect(metrics.headline.map((h) => [h.name, h.value])).toEqual([
      ['individual', 1],
      ['pair', 1],
      ['individual_uncorrected', 1],
      ['pair_uncorrected', 1],
    ]);
    expect(mmvpFamily.externalId(items[1] as Item)).toBe('1');
  });
});
