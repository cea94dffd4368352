import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { externalMetrics } from '../../src/cli/metrics.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import { writeSyntheticWinoground } from '../../src/fixtures/synthetic-winoground.js';
import type { ScoreMatrix } from '../../src/core/item.js';

let tmp: string;
let dataDir: string;
let examples: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'winoground-'));
  const w = await writeSyntheticWinoground(path.join(tmp, 'winoground'), { seed: 1, count: 6 });
  dataDir = w.dataDir;
  examples = w.examplesFile;
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const spec = (over: Record<string, unknown> = {}) =>
  BenchmarkSpecSchema.parse({ name: 'wg', format: 'winoground', annotations: examples, data_dir: dataDir, subset: 'winoground', ...over });

// scores[image][caption]: s(Cj, Ik) = m[k][j]
const HAND: ScoreMatrix[] = [
  [
    [0.9, 0.1],
    [0.2, 0.8],
  ], // text ✓ (0.9>0.1, 0.8>0.2), image ✓ (0.9>0.2, 0.8>0.1) → group ✓
  [
    [0.9, 0.1],
    [0.95, 0.8],
  ], // text: c0i0 .9 > c1i0 .1 ✓ but c1i1 .8 > c0i1 .95 ✗ → text ✗; image: c0i0 .9 > c0i1 .95 ✗ → image ✗
  [
    [0.5, 0.5],
    [0.1, 0.9],
  ], // tie c0i0 = c1i0 → text ✗; image: .5 > .1 ✓ and .9 > .5 ✓ → image ✓, group ✗
  [
    [0.6, 0.4],
    [0.6, 0.7],
  ], // text ✓ (.6>.4, .7>.6); image: c0i0 .6 > c0i1 .6 ✗ (tie) → image ✗, group ✗
  [
    [0.2, 0.8],
    [0.9, 0.1],
  ], // all reversed → ✗ ✗ ✗
  [
    [0.7, 0.3],
    [0.4, 0.6],
  ], // text ✓, image ✓ (.7>.4, .6>.3) → group ✓
];

describe('Winoground', () => {
  it('loads examples.jsonl into two-image items with the tags in groups', async () => {
    const { items, failures } = await benchmarkFamily('winoground').load(spec());
    expect(failures).toEqual([]);
    expect(items).toHaveLength(6);
    expect(items[0]).toMatchObject({
      id: 'wg/0',
      correct: 0,
      groups: { winoground_id: '0', tag: 'Object', secondary_tag: 'Symbolic', collapsed_tag: 'Object', num_main_preds: '1' },
      meta: { correct_per_image: [0, 1] },
    });
    expect(items[0]!.images.map((p) => path.relative(dataDir, p))).toEqual(['images/ex_0_img_0.png', 'images/ex_0_img_1.png']);
    // the two captions hold the same words
    const words = (s: string) => s.split(' ').sort().join(' ');
    for (const it of items) expect(words(it.options[0]!)).toBe(words(it.options[1]!));
  });

  it('fails bad lines naming file, row and field', async () => {
    const file = path.join(tmp, 'bad.jsonl');
    const first = (await readFile(examples, 'utf8')).split('\n')[0]!;
    const row = JSON.parse(first);
    await writeFile(
      file,
      [
        first,
        '{not json',
        JSON.stringify({ ...row, id: 'x' }),
        JSON.stringify({ ...row, image_1: 'nope' }),
        JSON.stringify({ ...row, image_0: '/etc/passwd' }),
      ].join('\n'),
    );
    const { items, failures } = await benchmarkFamily('winoground').load(spec({ annotations: file }));
    expect(items).toHaveLength(1);
    expect(failures.map((f) => f.reason)).toEqual([
      expect.stringMatching(/bad\.jsonl row 1: field \(row\): not JSON/),
      `${file} row 2: field id: Invalid input: expected number, received string`,
      expect.stringMatching(/bad\.jsonl row 3: field image_1: image "nope" not found or unreadable/),
      expect.stringMatching(/bad\.jsonl row 4: field image_0: is an absolute path/),
    ]);
  });

  it('text, image and group scores as the paper defines them (strict; hand-checked with ties)', async () => {
    const family = benchmarkFamily('winoground');
    const { items } = await family.load(spec());
    const scores = new Map(items.map((it, i) => [it.id, HAND[i]!] as const));
    const m = family.metrics(items, scores);
    expect(m.headline).toEqual([
      { name: 'text', convention: 'winoground', value: 3 / 6, correct: 3, total: 6 },
      { name: 'image', convention: 'winoground', value: 3 / 6, correct: 3, total: 6 },
      { name: 'group', convention: 'winoground', value: 2 / 6, correct: 2, total: 6 },
    ]);
    // Tags of the synthetic set: even ids Object, odd Relation; ids 0 and 3 Symbolic.
    const perTag = (m.details as { perTag: Record<string, Array<{ label: string; n: number; text: number; image: number; group: number }>> }).perTag;
    expect(perTag.tag).toEqual([
      expect.objectContaining({ label: 'Object', n: 3, text: 1, image: 2, group: 1 }), // ids 0, 2, 4
      expect.objectContaining({ label: 'Relation', n: 3, text: 2, image: 1, group: 1 }), // ids 1, 3, 5
    ]);
    expect(perTag.secondary_tag).toEqual([
      expect.objectContaining({ label: '(none)', n: 4, text: 1, image: 2, group: 1 }), // ids 1, 2, 4, 5
      expect.objectContaining({ label: 'Symbolic', n: 2, text: 2, image: 1, group: 1 }), // ids 0, 3
    ]);
    expect(family.judge(items[2]!, HAND[2]!)).toEqual({ prediction: 0, correct: false });
    expect(family.judge(items[0]!, HAND[0]!)).toEqual({ prediction: 0, correct: true });
  });

  it('perceive metrics takes scores[image][caption] or [c0_i0, c0_i1, c1_i0, c1_i1]', async () => {
    const scoresFile = path.join(tmp, 'scores.jsonl');
    await writeFile(
      scoresFile,
      [
        JSON.stringify({ id: 0, scores: HAND[0] }),
        JSON.stringify({ id: 1, scores: [[0.9, 0.95, 0.1, 0.8]] }), // = HAND[1] flattened c0_i0, c0_i1, c1_i0, c1_i1
        JSON.stringify({ id: 2, scores: [[1, 2, 3]] }),
      ].join('\n'),
    );
    const r = await externalMetrics({ benchmark: 'winoground', annotations: examples, scores: scoresFile });
    expect(r.metrics.headline.map((h) => [h.name, h.correct, h.total])).toEqual([
      ['text', 1, 2],
      ['image', 1, 2],
      ['group', 1, 2],
    ]);
    expect(r.scoreProblems).toHaveLength(1);
    expect(r.metrics.nMissing).toBe(4);
  });

  it('the synthetic set is byte-identical for a seed', async () => {
    const a = await writeSyntheticWinoground(path.join(tmp, 'a'), { seed: 9, count: 2 });
    const b = await writeSyntheticWinoground(path.join(tmp, 'b'), { seed: 9, count: 2 });
    expect(await readFile(a.examplesFile)).toEqual(await readFile(b.examplesFile));
    expect(await readFile(path.join(a.dataDir, 'images/ex_1_img_1.png'))).toEqual(await readFile(path.join(b.dataDir, 'images/ex_1_img_1.png')));
  });
});
