import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSubset } from '../../src/benchmarks/registry.js';
import { checkDataDir } from '../../src/cli/data-check.js';
import { externalMetrics } from '../../src/cli/metrics.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import type { ScoreMatrix } from '../../src/core/item.js';

let tmp: string;

// The authors' SWAP format (hard_positives data/ and swapped_data/ visual_genome_attribution.json =
// ARO's VG-Attribution rows: image_path under <root>/images/, a crop box, captions, attributes).
const vga = (id: string, t: string, f: string, attributes: [string, string], box = { bbox_x: 10, bbox_y: 20, bbox_w: 100, bbox_h: 50 }) => ({
  image_id: id,
  image_path: `${id}.jpg`,
  ...box,
  true_caption: t,
  false_caption: f,
  attributes,
});
const DATA = [
  vga('1', 'the white dog and the black cat', 'the black dog and the white cat', ['white', 'black']),
  vga('2', 'the red car and the green tree', 'the green car and the red tree', ['red', 'green']),
  vga('3', 'the wooden table and the metal chair', 'the metal table and the wooden chair', ['wooden', 'metal']),
  vga('4', 'the tall man and the short woman', 'the short man and the tall woman', ['tall', 'short']),
  vga('5', 'the blue sky and the white cloud', 'the white sky and the blue cloud', ['blue', 'white'], { bbox_x: 0.5, bbox_y: 1.5, bbox_w: 30.25, bbox_h: 40 }),
  vga('6', 'the old bench and the new lamp', 'the new bench and the old lamp', ['old', 'new']),
  { ...vga('7', 'the big box and the small ball', 'the small box and the big ball', ['big', 'small']), attributes: undefined },
];
const SWAPPED = [
  vga('1', 'the black cat and the white dog', 'the black dog and the white cat', ['white', 'black']),
  vga('2', 'the green tree and the red car', 'the green car and the red tree', ['red', 'green']),
  vga('3', 'the metal chair and the wooden table', 'the metal table and the wooden chair', ['wooden', 'metal']),
  vga('4', 'the short woman and the tall man', 'the short man and the tall woman', ['tall', 'short']),
  // Its own negative (c_n' ≠ c_n): the item keeps both, [c_n, c, c_n', c_p].
  vga('5', 'the white cloud and the blue sky', 'the white cloud and the blue sky?', ['blue', 'white'], { bbox_x: 0.5, bbox_y: 1.5, bbox_w: 30.25, bbox_h: 40 }),
  // Another box: run_eval.py would score c_p on another crop; the row fails.
  vga('6', 'the new lamp and the old bench', 'the new bench and the old lamp', ['old', 'new'], { bbox_x: 11, bbox_y: 20, bbox_w: 100, bbox_h: 50 }),
  vga('7', 'the small ball and the big box', 'the small box and the big ball', ['big', 'small']),
];

// Hand-checked example. Rows [s(c_n), s(c), s(c_p)] (row 4: [s(c_n), s(c), s(c_n'), s(c_p)]):
//   row 0 [0.20, 0.30, 0.25]: c > c_n, c_p > c_n → original, modified, augmented
//   row 1 [0.25, 0.30, 0.20]: c > c_n > c_p → original, brittle
//   row 2 [0.28, 0.22, 0.30]: c_p > c_n > c → modified, brittle
//   row 3 [0.30, 0.30, 0.31]: TIE s(c_n) == s(c) → not original (strict), modified, not augmented, not brittle; ties 1
//   row 4 [0.10, 0.40, 0.35, 0.30]: o = [0.10, 0.40], m = [0.35, 0.30] → original; c > c_n' > c_p → brittle
// N = 5: original 3/5, augmented 1/5, brittleness 3/5, modified 3/5, c_n above both 0, ties 1,
// avg_diff = (0.05 + 0.10 + 0.08 + 0.01 + 0.10) / 5 = 0.068.
const SCORES: number[][] = [
  [0.2, 0.3, 0.25],
  [0.25, 0.3, 0.2],
  [0.28, 0.22, 0.3],
  [0.3, 0.3, 0.31],
  [0.1, 0.4, 0.35, 0.3],
];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hard-pos-swap-'));
  const root = path.join(tmp, 'hard_positives');
  for (const d of ['data/images', 'swapped_data/images']) await mkdir(path.join(root, d), { recursive: true });
  await writeFile(path.join(root, 'data/visual_genome_attribution.json'), JSON.stringify(DATA));
  await writeFile(path.join(root, 'swapped_data/visual_genome_attribution.json'), JSON.stringify(SWAPPED));
  for (const r of DATA) await writeFile(path.join(root, 'data/images', r.image_path), 'jpeg');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const found = () => {
  const f = findSubset('hard_positives.swap');
  if (f === undefined) throw new Error('hard_positives.swap is not registered');
  return f;
};

const spec = () => {
  const { family, subset } = found();
  return BenchmarkSpecSchema.parse({
    name: 'hps',
    format: family.format,
    annotations: path.join(tmp, subset.annotations),
    data_dir: path.join(tmp, subset.dataDir),
    subset: subset.subset,
    extra_files: { swapped: path.join(tmp, subset.extraFiles?.swapped ?? '') },
  });
};

describe('hard positives SWAP (visual_genome_attribution.json)', () => {
  it('is a subset of the hard-positives family with its published files listed', () => {
    const { family, subset } = found();
    expect(family.format).toBe('hard-positives');
    expect(subset).toMatchObject({ subset: 'swap', annotations: 'hard_positives/data/visual_genome_attribution.json' });
    expect(family.publishedFiles.filter((p) => p.path.endsWith('visual_genome_attribution.json')).map((p) => [p.path, p.sha256])).toEqual([
      ['hard_positives/data/visual_genome_attribution.json', null],
      ['hard_positives/swapped_data/visual_genome_attribution.json', null],
    ]);
  });

  it('builds [c_n, c, c_p] items on the data/ image cropped to the row box; bad rows fail naming file, row, field', async () => {
    const { family } = found();
    const { items, failures } = await family.load(spec());
    expect(items.map((i) => i.source.row)).toEqual([0, 1, 2, 3, 4]);
    expect(items[0]).toMatchObject({
      id: 'hps/0',
      subset: 'swap',
      options: ['the black dog and the white cat', 'the white dog and the black cat', 'the black cat and the white dog'],
      correct: 1,
      images: [path.join(tmp, 'hard_positives/data/images/1.jpg')],
      groups: { attributes: 'white_black', convention: 'hard_positives' },
      meta: { imagePath: '1.jpg', crop: { x: 10, y: 20, w: 100, h: 50 } },
    });
    expect(items[4]).toMatchObject({
      options: [
        'the white sky and the blue cloud',
        'the blue sky and the white cloud',
        'the white cloud and the blue sky?',
        'the white cloud and the blue sky',
      ],
      meta: { crop: { x: 0.5, y: 1.5, w: 30.25, h: 40 } },
    });
    expect(failures.map((f) => f.source.row)).toEqual([5, 6]);
    expect(failures[0]!.reason).toMatch(/swapped_data\/visual_genome_attribution\.json row 5: field bbox_x 11 differs/);
    expect(failures[1]!.reason).toMatch(/hard_positives\/data\/visual_genome_attribution\.json row 6: field attributes: Invalid input/);
  });

  it('original, augmented accuracy and brittleness as run_eval.py counts them (strict; the tie counts for neither)', async () => {
    const { family } = found();
    const { items } = await family.load(spec());
    const scores = new Map<string, ScoreMatrix>(items.map((it, i) => [it.id, [SCORES[i]!]]));
    const m = family.metrics(items, scores);
    expect(m.source).toBe('amitakamath/hard_positives@33addaae84b58d96dc8e9251b61d497c536ed23d:run_eval.py main');
    expect(m.headline).toEqual([
      { name: 'original', convention: 'hard_positives', value: 0.6, correct: 3, total: 5 },
      { name: 'augmented', convention: 'hard_positives', value: 0.2, correct: 1, total: 5 },
      { name: 'brittleness', convention: 'hard_positives', value: 0.6, correct: 3, total: 5 },
    ]);
    const d = m.details as { modified: { correct: number }; counts: Record<string, number>; avgDiff: number };
    expect(d.modified.correct).toBe(3);
    expect(d.counts).toEqual({
      bothPositivesAboveNegative: 1,
      originalAboveNegativeAbovePositive: 2,
      positiveAboveNegativeAboveOriginal: 1,
      negativeAboveBoth: 0,
      ties: 1,
    });
    expect(d.avgDiff).toBeCloseTo(0.068, 12);
    expect(family.judge(items[0]!, [SCORES[0]!])).toEqual({ prediction: 1, correct: true });
    expect(family.judge(items[3]!, [SCORES[3]!])).toEqual({ prediction: 2, correct: false });
    expect(family.judge(items[4]!, [SCORES[4]!])).toEqual({ prediction: 1, correct: false });
  });

  it('perceive metrics and perceive data check cover it', async () => {
    const { subset } = found();
    const scoresFile = path.join(tmp, 'swap-scores.jsonl');
    await writeFile(scoresFile, SCORES.map((s, i) => JSON.stringify({ id: String(i), scores: [s] })).join('\n') + '\n');
    const r = await externalMetrics({ benchmark: 'hard_positives.swap', annotations: path.join(tmp, subset.annotations), scores: scoresFile });
    expect(r.items).toBe(5);
    expect(r.scored).toBe(5);
    expect(r.metrics.headline.map((h) => [h.name, h.correct, h.total])).toEqual([
      ['original', 3, 5],
      ['augmented', 1, 5],
      ['brittleness', 3, 5],
    ]);

    const report = await checkDataDir(tmp);
    const swap = report.subsets.find((s) => s.benchmark === 'hard_positives.swap');
    expect(swap).toMatchObject({ items: 5, failedRows: 2, missingImages: 0, invalidRows: 2 });
    expect(swap!.files.map((f) => [f.path, f.status])).toEqual([
      ['hard_positives/data/visual_genome_attribution.json', 'unknown'],
      ['hard_positives/swapped_data/visual_genome_attribution.json', 'unknown'],
    ]);
  });
});
