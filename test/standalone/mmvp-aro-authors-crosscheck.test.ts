import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preCaption } from '../../src/benchmarks/aro/pre-caption.js';
import { externalMetrics } from '../../src/cli/metrics.js';

/**
 * Our MMVP, MMVP-VLM / Questions-clip.csv and ARO ports against the authors' own code.
 * `fixtures/mmvp-aro-authors-crosscheck.json` holds annotation rows written in the authors' formats,
 * tie-heavy scores (drawn from {0.1, 0.2, 0.3}, or {0.2, 0.5, 0.8} for VQAScores) and what the authors'
 * functions printed or returned on them, produced once by
 * `fixtures/mmvp-aro-crosscheck-harness/run.py` (it executes, unmodified, the functions read from the
 * authors' repositories: tsb0601/MMVP@7635005 `scripts/gpt_grader.py` and `evaluate_vlm.py`
 * `benchmark_model`; lmms-eval@75571cf `tasks/mmvp/utils.py`; CLIP-Embeds@1c73a50 `eval_clip.py` and
 * `eval_vqa_score.py` `eval_MMVP`; vision-language-models-are-bows@81fdd20 `evaluate_scores` of
 * VG_Relation / VG_Attribution / COCO_Order, the notebook's macro-accuracy cells, `pre_caption`;
 * torch, CLIP and the OpenAI grader are replaced by numpy / lookup stand-ins that return the given scores).
 */

interface Fx {
  mmvp: {
    rows: string[][];
    scores: number[][][];
    gpt_grader: { corrected: number; uncorrected: number };
    lmms_eval: Record<'corrected' | 'uncorrected', { accuracy: number; pair_accuracy: number }>;
  };
  mmvp_vlm: { rows: string[][]; scores: number[][][]; clip_embeds: string; mmvp_vlm: Record<string, number> };
  mmvp_vlm_vqascore: { rows: string[][]; scores: number[][][]; clip_embeds_vqascore: string };
  mmvp_clip: { rows: string[][]; scores: number[][][]; clip_embeds: string };
  vg_relation: { rows: unknown[]; scores: number[][][]; printed: string; records: Array<{ name: string; accuracy: number; count: number }> };
  vg_attribution: { rows: unknown[]; scores: number[][][]; printed: string };
  coco_order: { rows: unknown[]; scores: number[][][]; records: Array<{ 'Precision@1': number }> };
  pre_caption: Array<{ caption: string; max_words: number; out: string }>;
}

let tmp: string;
let fx: Fx;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mmvp-aro-crosscheck-'));
  fx = JSON.parse(await readFile(fileURLToPath(new URL('fixtures/mmvp-aro-authors-crosscheck.json', import.meta.url)), 'utf8')) as Fx;
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const csvLine = (cells: string[]): string => cells.map((c) => (/[",]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');

async function write(rel: string, text: string): Promise<string> {
  const p = path.join(tmp, rel);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
}

async function scoresFile(rel: string, scores: number[][][]): Promise<string> {
  return write(rel, scores.map((s, id) => JSON.stringify({ id, scores: s })).join('\n') + '\n');
}

/** `Name: 12.5` lines of eval_MMVP's evaluation_results.txt, and its `Pair: x, Individual: y` line. */
function parseEvalMmvp(text: string): { pair: number; individual: number; perCategory: Record<string, { pair: number; single: number }> } {
  const head = /Pair: ([\d.e-]+), Individual: ([\d.e-]+)/.exec(text);
  const perCategory: Record<string, { pair: number; single: number }> = {};
  for (const m of text.matchAll(/^(.+) (Pair|Single) accuracy: ([\d.e-]+)$/gm)) {
    const c = (perCategory[m[1] as string] ??= { pair: Number.NaN, single: Number.NaN });
    if (m[2] === 'Pair') c.pair = Number(m[3]);
    else c.single = Number(m[3]);
  }
  return { pair: Number(head?.[1]), individual: Number(head?.[2]), perCategory };
}

const headline = (r: Awaited<ReturnType<typeof externalMetrics>>): Record<string, number> =>
  Object.fromEntries(r.metrics.headline.map((h) => [h.name, h.value as number]));

interface CategoryRecord {
  category: string;
  authorsPairAccuracy: number;
  authorsIndividualAccuracy: number;
}

describe("authors' code vs our ports on the same tie-heavy scores", () => {
  it('MMVP: gpt_grader.py pair accuracy and lmms-eval accuracy / pair accuracy, corrected and uncorrected', async () => {
    const annotations = await write('MMVP/Questions.csv', ['Index,Question,Options,Correct Answer', ...fx.mmvp.rows.map(csvLine)].join('\n') + '\n');
    const scores = await scoresFile('mmvp.jsonl', fx.mmvp.scores);
    const a = headline(await externalMetrics({ benchmark: 'mmvp', annotations, scores }));
    expect(a.pair).toBeCloseTo(fx.mmvp.gpt_grader.corrected, 12);
    expect(a.pair_uncorrected).toBeCloseTo(fx.mmvp.gpt_grader.uncorrected, 12);
    const l = headline(await externalMetrics({ benchmark: 'mmvp', annotations, scores, convention: 'lmms_eval' }));
    expect(l.individual).toBeCloseTo(fx.mmvp.lmms_eval.corrected.accuracy, 12);
    expect(l.pair).toBeCloseTo(fx.mmvp.lmms_eval.corrected.pair_accuracy, 12);
    expect(l.individual_uncorrected).toBeCloseTo(fx.mmvp.lmms_eval.uncorrected.accuracy, 12);
    expect(l.pair_uncorrected).toBeCloseTo(fx.mmvp.lmms_eval.uncorrected.pair_accuracy, 12);
  });

  const t2iCases = [
    ['mmvp_vlm', 'clip_embeds', 'MMVP_VLM/Questions.csv'],
    ['mmvp_vlm_vqascore', 'clip_embeds_vqascore', 'MMVP_VLM_VQ/Questions.csv'],
    ['mmvp_clip', 'clip_embeds', 'MMVP/Questions-clip.csv'],
  ] as const;
  for (const [key, convention, rel] of t2iCases) {
    it(`${key}: CLIP-Embeds eval_MMVP (${convention}) overall and per-category figures`, async () => {
      const c = fx[key];
      const annotations = await write(rel, ['Question ID,Type,Statement', ...c.rows.map(csvLine)].join('\n') + '\n');
      const scores = await scoresFile(`${key}.jsonl`, c.scores);
      const benchmark = key === 'mmvp_clip' ? 'mmvp_clip' : 'mmvp_vlm';
      const r = await externalMetrics({ benchmark, annotations, scores, convention });
      const authors = parseEvalMmvp((c as Record<string, unknown>)[convention] as string);
      const h = headline(r);
      expect(100 * (h.pair ?? Number.NaN)).toBeCloseTo(authors.pair, 9);
      expect(100 * (h.individual ?? Number.NaN)).toBeCloseTo(authors.individual, 9);
      const per = (r.metrics.details as { perCategory: CategoryRecord[] }).perCategory;
      expect(per.map((p) => p.category)).toEqual(Object.keys(authors.perCategory));
      for (const p of per) {
        expect(100 * p.authorsPairAccuracy).toBeCloseTo(authors.perCategory[p.category]?.pair ?? Number.NaN, 9);
        expect(100 * p.authorsIndividualAccuracy).toBeCloseTo(authors.perCategory[p.category]?.single ?? Number.NaN, 9);
      }
    });
  }

  it("MMVP-VLM: the MMVP authors' evaluate_vlm.py per-category pair accuracy and their mean", async () => {
    const annotations = await write('MMVP_VLM2/Questions.csv', ['Question ID,Type,Statement', ...fx.mmvp_vlm.rows.map(csvLine)].join('\n') + '\n');
    const scores = await scoresFile('vlm2.jsonl', fx.mmvp_vlm.scores);
    const r = await externalMetrics({ benchmark: 'mmvp_vlm', annotations, scores, convention: 'mmvp_vlm' });
    const per = (r.metrics.details as { perCategory: CategoryRecord[] }).perCategory;
    expect(Object.fromEntries(per.map((p) => [p.category, 100 * p.authorsPairAccuracy]))).toEqual(
      Object.fromEntries(Object.entries(fx.mmvp_vlm.mmvp_vlm).map(([k, v]) => [k, expect.closeTo(v, 9)])),
    );
    const mean = Object.values(fx.mmvp_vlm.mmvp_vlm).reduce((a, b) => a + b, 0) / 9;
    expect(100 * (headline(r).pair ?? Number.NaN)).toBeCloseTo(mean, 9);
  });

  it("ARO VG-Relation: the notebook's macro accuracy and evaluate_scores' records", async () => {
    const annotations = await write('aro/visual_genome_relation.json', JSON.stringify(fx.vg_relation.rows));
    const scores = await scoresFile('vgr.jsonl', fx.vg_relation.scores);
    const r = await externalMetrics({ benchmark: 'aro.vg_relation', annotations, scores });
    expect(headline(r).macro).toBeCloseTo(Number(fx.vg_relation.printed.split(': ')[1]), 12);
    const records = (r.metrics.details as { records: Array<{ name: string; accuracy: number; count: number }> }).records;
    expect(records.map((x) => [x.name, x.count])).toEqual(fx.vg_relation.records.map((x) => [x.name, x.count]));
    records.forEach((x, i) => expect(x.accuracy).toBeCloseTo(fx.vg_relation.records[i]?.accuracy ?? Number.NaN, 12));
  });

  it("ARO VG-Attribution: the notebook's macro accuracy over pairs with ≥ 25 samples", async () => {
    const annotations = await write('aro/visual_genome_attribution.json', JSON.stringify(fx.vg_attribution.rows));
    const scores = await scoresFile('vga.jsonl', fx.vg_attribution.scores);
    const r = await externalMetrics({ benchmark: 'aro.vg_attribution', annotations, scores });
    expect(headline(r).macro).toBeCloseTo(Number(fx.vg_attribution.printed.split(': ')[1]), 12);
  });

  it('ARO COCO-Order: Precision@1 (pre-built options)', async () => {
    const annotations = await write('coco/order.json', JSON.stringify(fx.coco_order.rows));
    const scores = await scoresFile('order.jsonl', fx.coco_order.scores);
    const r = await externalMetrics({ benchmark: 'aro.coco_order', annotations, scores });
    expect(headline(r).precision_at_1).toBeCloseTo(fx.coco_order.records[0]?.['Precision@1'] ?? Number.NaN, 12);
  });

  it('pre_caption', () => {
    for (const c of fx.pre_caption) expect(preCaption(c.caption, c.max_words)).toBe(c.out);
  });
});
