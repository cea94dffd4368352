import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { externalMetrics, formatExternalMetrics } from '../../src/cli/metrics.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import { writeSyntheticSugarCrepePp } from '../../src/fixtures/synthetic-sugarcrepe-pp.js';
import type { ScoreMatrix } from '../../src/core/item.js';

let tmp: string;
let set: Awaited<ReturnType<typeof writeSyntheticSugarCrepePp>>;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'scpp-'));
  set = await writeSyntheticSugarCrepePp(path.join(tmp, 'scpp'), { seed: 2, perSubset: 5 });
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const spec = (over: Record<string, unknown> = {}) =>
  BenchmarkSpecSchema.parse({ name: 'scpp', format: 'sugarcrepe-pp', annotations: set.files.swap_obj, data_dir: set.imageDir, subset: 'swap_obj', ...over });

// [s(I,P1), s(I,P2), s(I,N)] and the text-only row [cos(P1,P2), cos(P1,N), cos(P2,N)]
const HAND: ScoreMatrix[] = [
  [
    [0.3, 0.3, 0.2],
    [0.9, 0.8, 0.7],
  ], // ITT ✓ (both > N); P1 ✓ P2 ✓; TOT ✓ (.9 > .8, .9 > .7)
  [
    [0.3, 0.2, 0.2],
    [0.8, 0.8, 0.1],
  ], // P2 ties N → ITT ✗; P1 ✓; TOT ✗ (tie .8 = .8)
  [
    [0.1, 0.4, 0.3],
    [0.9, 0.5, 0.95],
  ], // P1 ✗, P2 ✓ → ITT ✗; TOT ✗ (.9 < .95)
  [
    [0.5, 0.6, 0.1],
    [0.7, 0.6, 0.5],
  ], // ITT ✓; TOT ✓
  [[0.2, 0.2, 0.2]], // all tie → ✗; no text row: TOT not counted
];

describe('SugarCrepe++', () => {
  it('loads {id, filename, caption, caption2, negative_caption} into [P1, P2, N] items', async () => {
    const { items, failures } = await benchmarkFamily('sugarcrepe-pp').load(spec());
    expect(failures).toEqual([]);
    expect(items).toHaveLength(5);
    expect(items[0]).toMatchObject({ id: 'scpp/0', correct: 0, groups: { subset: 'swap_obj', row_id: '0' } });
    expect(items[0]!.options[1]).toContain('to the right of');
  });

  it('fails bad rows naming file, row and field', async () => {
    const file = path.join(tmp, 'bad.json');
    const rows = JSON.parse(await readFile(set.files.swap_obj!, 'utf8'));
    await writeFile(file, JSON.stringify([rows[0], { ...rows[1], caption2: undefined }, { ...rows[2], filename: 'gone.jpg' }]));
    const { items, failures } = await benchmarkFamily('sugarcrepe-pp').load(spec({ annotations: file }));
    expect(items).toHaveLength(1);
    expect(failures.map((f) => f.reason)).toEqual([
      `${file} row 1: field caption2: Invalid input: expected string, received undefined`,
      expect.stringMatching(/bad\.json row 2: field filename: image .*gone\.jpg not found or unreadable$/),
    ]);
  });

  it('ITT, Image-P1/P2-Neg and TOT as test_Variants_CLIP.py counts them (hand-checked, ties wrong)', async () => {
    const family = benchmarkFamily('sugarcrepe-pp');
    const { items } = await family.load(spec());
    const m = family.metrics(items, new Map(items.map((it, i) => [it.id, HAND[i]!] as const)));
    expect(m.headline).toEqual([
      { name: 'itt', convention: 'sugarcrepe_pp', value: 2 / 5, correct: 2, total: 5 },
      { name: 'tot', convention: 'sugarcrepe_pp', value: 2 / 4, correct: 2, total: 4 },
    ]);
    expect(m.details).toMatchObject({ imageP1Neg: { correct: 3, total: 5 }, imageP2Neg: { correct: 3, total: 5 } });
    // a run's arms give only the image row: TOT is then unknown, never 0
    const imageOnly = family.metrics(items, new Map(items.map((it, i) => [it.id, [HAND[i]![0]!]] as const)));
    expect(imageOnly.headline[1]).toMatchObject({ name: 'tot', value: null, total: 0 });
    expect(family.judge(items[1]!, HAND[1]!)).toEqual({ prediction: 0, correct: false });
  });

  it('perceive metrics with the optional text-only row', async () => {
    const scoresFile = path.join(tmp, 'scores.jsonl');
    await writeFile(scoresFile, HAND.map((s, i) => JSON.stringify({ id: i, scores: s })).join('\n'));
    const r = await externalMetrics({ benchmark: 'sugarcrepe_pp.swap_obj', annotations: set.files.swap_obj!, scores: scoresFile, dataDir: set.imageDir });
    expect(formatExternalMetrics(r)).toContain('sugarcrepe_pp itt: 40.00%  (2 / 5)');
    expect(formatExternalMetrics(r)).toContain('sugarcrepe_pp tot: 50.00%  (2 / 4)');
  });
});
