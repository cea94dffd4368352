import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunReport, type WrittenReport } from '../../src/report/run-report.js';
import type { RunDirectory } from '../../src/store/run-directory.js';
import { writeHandMadeRun } from '../support/hand-made-run.js';

let dir: string;
let run: RunDirectory;
let written: WrittenReport;

// Item k:       0  1  2  3  4  5  6  7
// clip right:   1  0  1  0  0  0  1  0
// vlm right:    1  1  1  1  0  1  0  0
const clip = [true, false, true, false, false, false, true, false];
const vlm = [true, true, true, true, false, true, false, false];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-report-'));
  run = await writeHandMadeRun(dir, { clip, vlm }, { pairCosines: [0.996, 0.93, 0.97, 0.991] });
  written = await writeRunReport(run);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('report on a hand-made store', () => {
  it('counts the 2x2 and computes the exact McNemar p-value', () => {
    const [c] = written.summary.comparisons;
    expect(c).toMatchObject({ arm: 'vlm.vqascore', baseline: 'clip', n: 8, both: 2, onlyArm: 3, onlyBaseline: 1, neither: 2 });
    // b=3, c=1: 2 · (C(4,0) + C(4,1)) / 2^4 = 10/16
    expect(c!.mcnemarP).toBeCloseTo(0.625, 12);
    expect(c!.armWins).toEqual(['whatsup.synthetic/1', 'whatsup.synthetic/3', 'whatsup.synthetic/5']);
  });

  it("computes the authors' metrics with bootstrap intervals that contain them", () => {
    const vqa = written.summary.arms.find((a) => a.arm === 'vlm.vqascore')!;
    const indiv = vqa.metrics.headline.find((h) => h.name === 'individual')!;
    expect(indiv.value).toBeCloseTo(5 / 8, 12);
    const ci = vqa.ci.individual!;
    expect(ci.low).toBeLessThanOrEqual(5 / 8);
    expect(ci.high).toBeGreaterThanOrEqual(5 / 8);
    // Items 0..3 are one What'sUp set (left, right, on, under order per the synthetic file): pairs.
    expect(vqa.metrics.headline.find((h) => h.name === 'pair')!.total).toBe(4);
  });

  it('writes CSV tables that parse back to the numbers in the markdown', () => {
    const md = fs.readFileSync(written.reportFile, 'utf8');
    const rows = parse(fs.readFileSync(run.file('tables/accuracy.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(2 * 3);
    for (const r of rows) {
      const value = (100 * Number(r.value)).toFixed(1);
      const low = (100 * Number(r.ci_low)).toFixed(1);
      const high = (100 * Number(r.ci_high)).toFixed(1);
      const section = md.slice(md.indexOf(`### ${r.benchmark} (`));
      const line = section.split('\n').find((l) => l.startsWith(`| ${r.arm} |`))!;
      expect(line).toContain(`${value} [${low}, ${high}] (${r.correct}/${Number(r.total)})`);
    }
    const comparison = parse(fs.readFileSync(run.file('tables/comparison.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(comparison[0]).toMatchObject({ both: '2', only_arm: '3', only_baseline: '1', neither: '2', mcnemar_p: '0.625' });
    expect(md).toContain('| **vlm.vqascore right** | 2 (both) | 3 (only vlm.vqascore) |');
    expect(md).toContain('p = 0.625');
  });

  it('has every section, the tiny-model warning, the erroneous-agreement table and the reference numbers', () => {
    const md = fs.readFileSync(written.reportFile, 'utf8');
    for (const heading of [
      '## Run',
      '## Accuracy per benchmark and arm',
      '## Per item: generation against contrastive matching',
      '## Differences between arms (prompt ablation)',
      '## Erroneous agreement',
      '## Reference numbers from the papers',
    ])
      expect(md).toContain(heading);
    expect(md).toContain('tiny random models');
    expect(md).toContain('**unverified**');
    const agreement = parse(fs.readFileSync(run.file('tables/agreement.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(agreement).toHaveLength(4 * 2);
    // The pair of items 0 and 1 (left/right of the first set) has cosine 0.996 in this store.
    const mean = (0.996 + 0.93 + 0.97 + 0.991) / 4;
    expect(md).toContain(mean.toFixed(4));
  });
});

describe('report --compare', () => {
  it('puts the same arm of two runs side by side with B − A and the per-item 2x2', async () => {
    const { writeCompareReport } = await import('../../src/report/compare-report.js');
    const dirB = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-report-b-'));
    try {
      // Run B: the VLM now also gets item 4 right, and loses item 0.
      const runB = await writeHandMadeRun(dirB, { clip, vlm: [false, true, true, true, true, true, false, false] });
      const { dir: out, model } = await writeCompareReport(run.dir, runB.dir, path.join(dirB, 'cmp'));
      const indiv = model.rows.find((r) => r.arm === 'vlm.vqascore' && r.metric === 'individual')!;
      expect(indiv.a).toBeCloseTo(5 / 8, 12);
      expect(indiv.b).toBeCloseTo(5 / 8, 12);
      expect(indiv.difference).toBeCloseTo(0, 12);
      const t = model.tables.find((x) => x.arm === 'vlm.vqascore')!;
      expect(t).toMatchObject({ n: 8, both: 4, onlyB: 1, onlyA: 1, neither: 2 });
      expect(t.mcnemarP).toBe(1);
      const clipRow = model.tables.find((x) => x.arm === 'clip')!;
      expect(clipRow).toMatchObject({ both: 3, onlyA: 0, onlyB: 0, neither: 5 });
      expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('| whatsup.synthetic | vlm.vqascore | 8 | 4 | 1 | 1 | 2 | 1.000 |');
      expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
    } finally {
      fs.rmSync(dirB, { recursive: true, force: true });
    }
  });
});

describe('MMVP pair view', () => {
  it('gives strict and relaxed pair accuracy per way of asking, naming the variant', async () => {
    const { buildReportModel } = await import('../../src/report/report-model.js');
    const { summarise } = await import('../../src/analysis/summary.js');
    const mk = (arm: string, row: number, scores: number[], correct: boolean, extra: Record<string, unknown> = {}) => ({
      run_id: 'r',
      task: `${arm}${row}`,
      item: `mmvp/${row}`,
      benchmark: 'mmvp',
      subset: 'mmvp',
      arm,
      model: 'm',
      model_hash: 'h',
      prompt: null,
      images: [{ path: `/x/${row + 1}.jpg`, sha256: 's' }],
      options: ['Up', 'Down'],
      correct_option: row % 2 === 0 ? 0 : 1,
      status: 'ok' as const,
      scores: [scores],
      prediction: scores[0]! >= scores[1]! ? 0 : 1,
      correct,
      extra,
      error: null,
      latency_ms: 1,
      timings: null,
      groups: { pair: String(Math.floor(row / 2)) },
      source: { file: 'Questions.csv', row },
      finished_at: '',
    });
    // Pair 0: image 1 (correct a) prefers a with p=0.6; image 2 (correct b) prefers a with p=0.55 → strict wrong, relaxed right (0.6 > 0.55).
    // Pair 1: both right → strict right; relaxed: image 1 p(a)=0.8 > image 2 p(a)=0.3 → right.
    const lp = (p: number) => [Math.log(p), Math.log(1 - p)];
    const samples = [
      mk('vlm.mcq', 0, lp(0.6), true),
      mk('vlm.mcq', 1, lp(0.55), false),
      mk('vlm.mcq', 2, lp(0.8), true),
      mk('vlm.mcq', 3, lp(0.3), true),
      mk('vlm.two-image', 0, lp(0.4), false, { relaxed_pair: { variant: 'two-image', option: 0, p_image1: 0.4, p_image2: 0.5, correct: false } }),
      mk('vlm.two-image', 1, lp(0.2), true),
      mk('vlm.two-image', 2, lp(0.9), true, { relaxed_pair: { variant: 'two-image', option: 0, p_image1: 0.9, p_image2: 0.1, correct: true } }),
      mk('vlm.two-image', 3, lp(0.1), true),
    ];
    const summary = summarise('r', samples, new Map(), 'clip', { iterations: 50 });
    const m = buildReportModel({
      summary,
      samples,
      manifest: { config: { benchmarks: [{ name: 'mmvp', format: 'mmvp', subset: 'mmvp' }] } },
      baseline: 'clip',
    });
    const row = (arm: string, variant: string) => m.pairModes.find((r) => r.arm === arm && r.variant === variant && r.category === 'all')!;
    expect(row('vlm.mcq', 'one image per prompt')).toMatchObject({ correct: 1, total: 2, value: 0.5 });
    expect(row('vlm.mcq', 'relaxed, single-image')).toMatchObject({ correct: 2, total: 2, value: 1 });
    expect(row('vlm.two-image', 'both images in one prompt')).toMatchObject({ correct: 1, total: 2 });
    expect(row('vlm.two-image', 'relaxed, two-image')).toMatchObject({ correct: 1, total: 2 });

    // The same two-image samples under a free label: the recorded arm kind, not the id, puts them in the view.
    const labelled = samples.map((s) => (s.arm === 'vlm.two-image' ? { ...s, arm: 'both-at-once', arm_kind: 'vlm.two-image' } : s));
    const ml = buildReportModel({
      summary,
      samples: labelled,
      manifest: { config: { benchmarks: [{ name: 'mmvp', format: 'mmvp', subset: 'mmvp' }] } },
      baseline: 'clip',
    });
    const rowL = (arm: string, variant: string) => ml.pairModes.find((r) => r.arm === arm && r.variant === variant && r.category === 'all');
    expect(rowL('both-at-once', 'both images in one prompt')).toMatchObject({ correct: 1, total: 2 });
    expect(rowL('both-at-once', 'relaxed, two-image')).toMatchObject({ correct: 1, total: 2 });
    expect(rowL('both-at-once', 'one image per prompt')).toBeUndefined();
  });

  it("reads the arm kind from the sample, or from an older sample's arm id", async () => {
    const { armKind } = await import('../../src/analysis/arm-kind.js');
    expect(armKind({ arm: 'both-at-once', arm_kind: 'vlm.two-image' })).toBe('vlm.two-image');
    expect(armKind({ arm: 'vlm.two-image.model' })).toBe('vlm.two-image');
    expect(armKind({ arm: 'vlm2vec.question.mine' })).toBe('vlm2vec.question');
    expect(armKind({ arm: 'clip' })).toBe('clip');
    expect(armKind({ arm: 'free-label' })).toBe('free-label');
  });
});

describe('bootstrap clusters', () => {
  it('resample MMVP question pairs whole: 0 of 6 pairs right gives the interval [0, 0]', async () => {
    const { writeSyntheticMmvp } = await import('../../src/fixtures/synthetic-mmvp.js');
    const { loadMmvp } = await import('../../src/benchmarks/mmvp/loader.js');
    const { bootstrapHeadline } = await import('../../src/analysis/metric-bootstrap.js');
    const { bootstrapClusterFor } = await import('../../src/analysis/summary.js');
    const { benchmarkFamily } = await import('../../src/benchmarks/registry.js');
    const set = await writeSyntheticMmvp(path.join(dir, 'mmvp'), { seed: 0 });
    const { items } = await loadMmvp(set.questionsFile, {});
    // The first question of every pair right, the second wrong: individual 1/2, pair 0.
    const scores = new Map(items.map((i) => [i.id, [(i.correct === 0) === (Number(i.groups.pair) * 2 === i.source.row) ? [1, 0] : [0, 1]]]));
    const m = benchmarkFamily('mmvp').metrics(items, scores);
    expect(m.headline.find((h) => h.name === 'pair')!.value).toBe(0);
    const ci = bootstrapHeadline(benchmarkFamily('mmvp'), items, scores, ['individual', 'pair'], { ...bootstrapClusterFor('mmvp'), iterations: 300 });
    expect(ci.pair).toEqual({ low: 0, high: 0 });
    expect(ci.individual).toEqual({ low: 0.5, high: 0.5 });
  });
});
