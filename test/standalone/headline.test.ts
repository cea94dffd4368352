import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { headlineTables, holmAdjust } from '../../src/analysis/headline.js';
import { summarise } from '../../src/analysis/summary.js';
import type { BenchmarkSpec } from '../../src/config/experiment.js';
import { renderCsvTables } from '../../src/report/csv-tables.js';
import { renderHtmlReport } from '../../src/report/html-report.js';
import { renderMarkdownReport } from '../../src/report/markdown-report.js';
import { buildReportModel, type ReportManifest } from '../../src/report/report-model.js';
import type { Sample } from '../../src/store/sample.js';
import { handMadeHeadlineRun } from '../support/hand-made-headline.js';

describe('Holm–Bonferroni adjustment', () => {
  it("gives R's p.adjust(p, 'holm') values in the input's order", () => {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.06.
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted[0]).toBeCloseTo(0.03, 15);
    expect(adjusted[1]).toBeCloseTo(0.06, 15);
    expect(adjusted[2]).toBeCloseTo(0.06, 15);
    expect(adjusted[3]).toBeCloseTo(0.02, 15);
    expect(holmAdjust([0.4, 0.9])).toEqual([0.8, 0.9]);
    expect(holmAdjust([0.7, 0.6])).toEqual([1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe('headline table on a hand-made sample set', () => {
  const run = handMadeHeadlineRun();
  const summary = summarise('headline', run.samples, run.formats, 'clip', { iterations: 50 });

  it('counts the four cells per VLM arm, leaves non-VLM arms out, and takes the McNemar p of the comparison', () => {
    const [t, u] = summary.headline;
    expect(t).toMatchObject({ benchmark: 'sugarcrepe.a', baseline: 'clip', alpha: 0.05, correction: 'holm', m: 4, baseline_convention: 'sugarcrepe' });
    expect(t!.rows.map((r) => r.arm)).toEqual(['vlm.mcq', 'vlm.vqascore', 'vlm2vec.question', 'vlm.generate']);
    const byArm = Object.fromEntries(t!.rows.map((r) => [r.arm, r]));
    expect(byArm['vlm.mcq']).toMatchObject({ n: 30, both: 13, only_arm: 12, only_baseline: 2, neither: 3, excluded: 0, convention: 'sugarcrepe' });
    expect(byArm['vlm.vqascore']).toMatchObject({ n: 30, both: 6, only_arm: 0, only_baseline: 9, neither: 15 });
    expect(byArm['vlm2vec.question']).toMatchObject({ n: 29, both: 12, only_arm: 3, only_baseline: 3, neither: 11, excluded: 1 });
    expect(byArm['vlm.generate']).toMatchObject({ n: 30, both: 7, only_arm: 1, only_baseline: 8, neither: 14 });
    // Exact McNemar (scipy.stats.binomtest(b, b + c, 0.5).pvalue): 12 vs 2, 0 vs 9, 3 vs 3, 1 vs 8.
    expect(byArm['vlm.mcq']!.p).toBeCloseTo(0.012939453125, 15);
    expect(byArm['vlm.vqascore']!.p).toBeCloseTo(0.00390625, 15);
    expect(byArm['vlm2vec.question']!.p).toBe(1);
    expect(byArm['vlm.generate']!.p).toBeCloseTo(0.0390625, 15);
    // The same p as the report's per-item comparison (reused, not recomputed).
    for (const r of t!.rows) expect(r.p).toBe(summary.comparisons.find((c) => c.benchmark === 'sugarcrepe.a' && c.arm === r.arm)!.mcnemarP);
    // The CLIP-kind arm `clip.l2` is compared in the per-item section but is no VLM arm.
    expect(summary.comparisons.some((c) => c.arm === 'clip.l2')).toBe(true);
    expect(t!.rows.some((r) => r.arm === 'clip.l2')).toBe(false);
    expect(u).toMatchObject({ benchmark: 'sugarcrepe.b', m: 1 });
  });

  it('adjusts across the arms of each benchmark (Holm) and states the direction at α = 0.05', () => {
    const [t, u] = summary.headline;
    const byArm = Object.fromEntries(t!.rows.map((r) => [r.arm, r]));
    // Sorted p: 0.00390625·4, 0.012939453125·3, 0.0390625·2, 1·1.
    expect(byArm['vlm.vqascore']!.p_adjusted).toBeCloseTo(0.015625, 15);
    expect(byArm['vlm.mcq']!.p_adjusted).toBeCloseTo(0.038818359375, 15);
    expect(byArm['vlm.generate']!.p_adjusted).toBeCloseTo(0.078125, 15);
    expect(byArm['vlm2vec.question']!.p_adjusted).toBe(1);
    expect(byArm['vlm.mcq']!.winner).toBe('arm');
    expect(byArm['vlm.vqascore']!.winner).toBe('baseline');
    // Raw p 0.039 < 0.05, but 0.078 after the correction: no significant difference.
    expect(byArm['vlm.generate']!.p).toBeLessThan(0.05);
    expect(byArm['vlm.generate']!.winner).toBe('none');
    expect(byArm['vlm2vec.question']!.winner).toBe('none');
    // The same 1 vs 8 split alone on its benchmark (m = 1): the adjusted p is the raw one, significant.
    expect(u!.rows[0]).toMatchObject({ arm: 'vlm.generate', only_arm: 1, only_baseline: 8 });
    expect(u!.rows[0]!.p_adjusted).toBeCloseTo(0.0390625, 15);
    expect(u!.rows[0]!.winner).toBe('baseline');
  });

  it('takes the level from the options and leaves out benchmarks without the baseline', () => {
    const strict = headlineTables(summary.comparisons, summary.arms, new Map(), { alpha: 0.01 });
    // No kinds given: arm ids are read as kinds, so `clip.l2` stays out here too.
    expect(strict[0]!.rows.map((r) => [r.arm, r.winner])).toEqual([
      ['vlm.mcq', 'none'],
      ['vlm.vqascore', 'none'],
      ['vlm2vec.question', 'none'],
      ['vlm.generate', 'none'],
    ]);
    const noBaseline = summarise('x', run.samples, run.formats, 'siglip', { iterations: 10 });
    expect(noBaseline.headline).toEqual([]);
  });

  it('opens report.md and report.html with the table, naming convention, option order, prompt and the correction', async () => {
    const model = buildReportModel({ summary, samples: run.samples, manifest: run.manifest, baseline: 'clip' });
    const md = renderMarkdownReport(model);
    const headings = md.split('\n').filter((l) => l.startsWith('## '));
    expect(headings[0]).toBe('## Headline: generation against contrastive matching');
    expect(headings[1]).toBe('## Run');
    expect(md).toContain('Holm–Bonferroni');
    expect(md).toContain('α = 0.05');
    expect(md).toContain(
      '| arm | convention | option order | prompt | items | both right | only arm right | only CLIP right | both wrong | McNemar p | Holm p (m = 4) | direction (α = 0.05) |',
    );
    expect(md).toContain(
      '| vlm.mcq | sugarcrepe | circular | mcq.sugarcrepe v2 | 30 | 13 (43.3%) | 12 (40.0%) | 2 (6.7%) | 3 (10.0%) | 0.013 | 0.039 | generation wins |',
    );
    expect(md).toContain(
      '| vlm.vqascore | sugarcrepe | n/a (no letters) | t2v.vqascore v1 | 30 | 6 (20.0%) | 0 (0.0%) | 9 (30.0%) | 15 (50.0%) | 0.004 | 0.016 | CLIP wins |',
    );
    expect(md).toContain(
      '| vlm.generate | sugarcrepe | fixed | generate.letters v3 | 30 | 7 (23.3%) | 1 (3.3%) | 8 (26.7%) | 14 (46.7%) | 0.039 | 0.078 | no significant difference |',
    );
    expect(md).toContain('| vlm2vec.question | sugarcrepe | n/a (no letters) | vlm2vec.question v1 | 29 (1 excluded) |');
    // The per-item section with both off-diagonal item lists stays further down.
    expect(md.indexOf('## Per item: generation against contrastive matching')).toBeGreaterThan(md.indexOf('## Run'));

    const html = await renderHtmlReport(model);
    expect(html.indexOf('<h2 id="headline">')).toBeGreaterThan(0);
    expect(html.indexOf('<h2 id="headline">')).toBeLessThan(html.indexOf('<h2 id="run">'));
    expect(html).toContain('<b>CLIP wins</b>');

    const rows = parse(renderCsvTables(model)['headline.csv']!, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({
      benchmark: 'sugarcrepe.a',
      arm: 'vlm.mcq',
      arm_kind: 'vlm.mcq',
      baseline: 'clip',
      baseline_name: 'CLIP',
      convention: 'sugarcrepe',
      option_order: 'circular',
      prompt: 'mcq.sugarcrepe v2',
      n: '30',
      only_arm: '12',
      only_baseline: '2',
      arms_compared: '4',
      alpha: '0.05',
      direction: 'generation wins',
    });
    expect(Number(rows[0]!.only_arm_share)).toBeCloseTo(0.4, 15);
    expect(Number(rows[0]!.p_holm)).toBeCloseTo(0.038818359375, 15);
  });

  it("names the baseline by its model's kind (SigLIP wins)", () => {
    const manifest: ReportManifest = {
      ...run.manifest,
      models: (run.manifest.models ?? []).map((m) => (m.name === 'clip' ? { ...m, kind: 'siglip' } : m)),
    };
    const md = renderMarkdownReport(buildReportModel({ summary, samples: run.samples, manifest, baseline: 'clip' }));
    expect(md).toContain('| 0.004 | 0.016 | SigLIP wins |');
    expect(md).toContain('only SigLIP right');
  });

  it('keeps a run whose samples lack arm kinds: kinds read from the arm ids', () => {
    const old: Sample[] = run.samples.map(({ arm_kind: _, ...s }) => s);
    const formats = new Map<string, BenchmarkSpec['format']>(run.formats);
    const t = summarise('old', old, formats, 'clip', { iterations: 10 }).headline[0]!;
    // vlm.generate is `vlm.generate`; `clip.l2` reads as the clip kind and stays out.
    expect(t.rows.map((r) => r.arm)).toEqual(['vlm.mcq', 'vlm.vqascore', 'vlm2vec.question', 'vlm.generate']);
  });
});

describe('report --compare: headline, CircularEval and position bias where both runs have them', () => {
  it('puts each run’s headline side by side and compares the option-order views', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { writeCompareReport } = await import('../../src/report/compare-report.js');
    const { writeHandMadeHeadlineRun } = await import('../support/hand-made-headline.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-headline-compare-'));
    try {
      const runA = writeHandMadeHeadlineRun(path.join(dir, 'results'), { runId: 'run-a' });
      // B: vlm.mcq 2/2, vlm.vqascore 0/9, vlm.generate 9/0 and asked circular; no vlm2vec arm, no sugarcrepe.b.
      const runB = writeHandMadeHeadlineRun(path.join(dir, 'results'), {
        runId: 'run-b',
        splits: { 'sugarcrepe.a': { 'vlm.mcq': [2, 2], 'vlm.vqascore': [0, 9], 'vlm.generate': [9, 0] } },
        orders: { 'vlm.generate': 'circular' },
      });
      const { dir: out, model } = await writeCompareReport(runA.dir, runB.dir, path.join(dir, 'cmp'));
      expect(model.sections.map((s) => s.id)).toEqual(['headline', 'circular-eval', 'position-bias']);

      const headline = model.sections[0]!;
      // Only the VLM arms both runs compared on a benchmark both ran: vlm2vec.question and sugarcrepe.b are A's alone.
      expect(headline.tables[0]!.rows.map((r) => `${r[0]} ${r[1]}`)).toEqual([
        'sugarcrepe.a vlm.mcq',
        'sugarcrepe.a vlm.vqascore',
        'sugarcrepe.a vlm.generate',
      ]);
      const csvRows = parse(fs.readFileSync(path.join(out, 'tables/compare-headline.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
      const gen = csvRows.find((r) => r.arm === 'vlm.generate')!;
      expect(gen).toMatchObject({
        a_only_arm: '1',
        a_only_baseline: '8',
        b_only_arm: '9',
        b_only_baseline: '0',
        a_arms_compared: '4',
        b_arms_compared: '3',
        a_direction: 'no significant difference',
        b_direction: 'generation wins',
        a_option_order: 'fixed',
        b_option_order: 'circular',
      });
      // B's family: p = 1 (2 vs 2), 0.00390625 twice → Holm 0.01171875 for both significant arms.
      expect(Number(gen.a_p_holm)).toBeCloseTo(0.078125, 15);
      expect(Number(gen.b_p_holm)).toBeCloseTo(0.01171875, 15);
      const vqa = csvRows.find((r) => r.arm === 'vlm.vqascore')!;
      expect(Number(vqa.b_p_holm)).toBeCloseTo(0.01171875, 15);
      expect(vqa).toMatchObject({ a_direction: 'CLIP wins', b_direction: 'CLIP wins' });
      expect(csvRows.find((r) => r.arm === 'vlm.mcq')).toMatchObject({
        a_direction: 'generation wins',
        b_direction: 'no significant difference',
        b_mcnemar_p: '1',
      });

      const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
      expect(md.indexOf('## Headline: each run against its baseline')).toBeLessThan(md.indexOf('## Metrics side by side'));
      expect(md).toContain(
        '| sugarcrepe.a | vlm.generate | clip (CLIP) | A: sugarcrepe, options fixed, generate.letters v3; B: sugarcrepe, options circular, generate.letters v3 | 7 / 1 / 8 / 14 of 30 | 0.039 | 0.078 (4) | no significant difference (α = 0.05) | 15 / 9 / 0 / 6 of 30 | 0.004 | 0.012 (3) | generation wins (α = 0.05) |',
      );

      // CircularEval: vlm.mcq is circular in both (right under both rotations = right): 25/30 in A, 15/30 in B.
      expect(model.sections[1]!.tables[0]!.rows).toEqual([['sugarcrepe.a', 'vlm.mcq', '83.3 (25/30)', '50.0 (15/30)', '-33.3', '25/30', '15/30']]);
      // Position bias: A's vlm.generate (fixed, correct always at a) picks a on its 8 right items; B's (circular) 24 + 6 of 60.
      const bias = parse(fs.readFileSync(path.join(out, 'tables/compare-position-bias.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
      expect(
        bias
          .filter((r) => r.arm === 'vlm.generate')
          .map((r) => [r.letter, r.a_prompts, r.a_picked, r.a_correct_here, r.b_prompts, r.b_picked, r.b_correct_here]),
      ).toEqual([
        ['a', '30', '8', '30', '60', '30', '30'],
        ['b', '30', '22', '0', '60', '30', '30'],
      ]);
      expect(model.sections[2]!.tables[0]!.rows.find((r) => r[1] === 'vlm.generate')).toEqual([
        'sugarcrepe.a',
        'vlm.generate',
        'fixed',
        'b',
        'circular',
        'a',
        '30',
        '60',
      ]);
      const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      expect(html.indexOf('id="compare-headline"')).toBeLessThan(html.indexOf('Metrics side by side'));
      expect((html.match(/data-chart="position-bias"><svg/g) ?? []).length).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('headline: an arm with no item both answered', () => {
  it('is shown as not tested and stays out of the Holm family', async () => {
    const { headlineTables } = await import('../../src/analysis/headline.js');
    const comparison = (arm: string, onlyArm: number, onlyBaseline: number, n: number) => ({
      benchmark: 'b',
      arm,
      baseline: 'clip',
      n,
      both: n - onlyArm - onlyBaseline,
      onlyArm,
      onlyBaseline,
      neither: 0,
      excluded: n === 0 ? 7 : 0,
      mcnemarP: n === 0 ? 1 : 0.0390625, // 0 vs 7 discordant: exact two-sided binomial
    });
    const kinds = new Map([
      ['b\u0000vlm.mcq', 'vlm.mcq'],
      ['b\u0000vlm.two-image', 'vlm.two-image'],
    ]);
    const [t] = headlineTables([comparison('vlm.mcq', 0, 7, 10), comparison('vlm.two-image', 0, 0, 0)] as never, [], kinds);
    expect(t?.m).toBe(1);
    expect(t?.rows.map((r) => [r.arm, r.p_adjusted, r.winner])).toEqual([
      ['vlm.mcq', 0.0390625, 'baseline'],
      ['vlm.two-image', 1, 'untested'],
    ]);
  });
});
