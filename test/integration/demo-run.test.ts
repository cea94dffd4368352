import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadExperimentConfig } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { PerceiveError } from '../../src/core/errors.js';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { writeRunReport } from '../../src/report/run-report.js';
import type { LlamaBinaries } from '../../src/models/llama/llama-build.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';
import { hostTools } from '../../src/models/host-tools.js';

let dir: string;
let binaries: LlamaBinaries;
const env = { ...readEnvironment(), llamaServerUrl: undefined, threads: 2 };

/**
 * The shipped demo config pointed at a fixture folder in a temp dir; `minimal` keeps only the
 * What'sUp set and the two arms of the vertical slice (clip, vlm.vqascore) for the quick checks.
 */
function writeConfig(name: string, edit: (text: string) => string = (t) => t, options: { minimal?: boolean } = { minimal: true }): string {
  const demo = fs.readFileSync(path.join(import.meta.dirname, '../../configs/demo.yaml'), 'utf8');
  const config = YAML.parse(demo.replaceAll('../.fixtures/', './fixtures/').replace('output: ../results', 'output: ./results')) as {
    benchmarks: Array<{ name: string }>;
    arms: Array<{ arm: string; label?: string }>;
  };
  if (options.minimal) {
    config.benchmarks = config.benchmarks.filter((b) => b.name === 'whatsup.synthetic');
    config.arms = config.arms.filter((a) => (a.arm === 'clip' || a.arm === 'vlm.vqascore') && !a.label);
  }
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, edit(YAML.stringify(config)));
  return file;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-demo-'));
  binaries = await llamaBinaries();
  await writeDemoFixtures(path.join(dir, 'fixtures'), { seed: 0 });
}, BUILD_TIMEOUT_MS);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the demo config end to end (tiny LLaVA-style GGUF + tiny CLIP ONNX, synthetic What'sUp)", () => {
  it('answers every item with both arms and writes a report with every item', async () => {
    const loaded = loadExperimentConfig(writeConfig('demo'));
    const result = await runExperiment(loaded, env, hostTools({ llama: binaries }), { runId: 'demo-test' });
    expect(result.samples).toHaveLength(48);
    expect(result.samples.filter((s) => s.status === 'ok')).toHaveLength(48);
    for (const arm of ['clip', 'vlm.vqascore']) {
      const mine = result.samples.filter((s) => s.arm === arm);
      expect(new Set(mine.map((s) => s.item)).size).toBe(24);
      for (const s of mine) {
        expect(s.scores).toHaveLength(1);
        expect(s.scores![0]).toHaveLength(4);
        expect(s.correct).toBe(s.prediction === 0);
      }
    }
    const vqa = result.samples.filter((s) => s.arm === 'vlm.vqascore');
    expect(vqa.every((s) => s.scores![0]!.every((v) => v > 0 && v < 1))).toBe(true);
    expect(vqa.every((s) => s.prompt?.id === 't2v_metrics.vqascore.llava-v1.5' && s.prompt.version === 1)).toBe(true);
    expect(vqa.every((s) => (s.timings?.calls ?? 0) >= 8)).toBe(true);
    // The CLIP image–image cosine of each What'sUp pair (two items differing only in the relation),
    // the same number on both items of the pair, for the erroneous-agreement view.
    const clipSamples = result.samples.filter((s) => s.arm === 'clip');
    expect(clipSamples.every((s) => typeof s.extra.image_pair_cosine === 'number')).toBe(true);
    const byPair = new Map<string, number[]>();
    for (const s of clipSamples) byPair.set(s.groups.pair!, [...(byPair.get(s.groups.pair!) ?? []), s.extra.image_pair_cosine as number]);
    expect(byPair.size).toBe(12);
    for (const cosines of byPair.values()) {
      expect(cosines).toHaveLength(2);
      expect(cosines[0]).toBe(cosines[1]);
      expect(cosines[0]).toBeLessThan(1);
    }

    const { summary } = await writeRunReport(result.run, { wallMs: result.wallMs });
    const report = fs.readFileSync(result.run.file('report.md'), 'utf8');
    for (let row = 0; row < 24; row++) expect(report).toContain(`| whatsup.synthetic/${row} |`);
    expect(report).toContain('tiny random model');
    expect(summary.arms.map((a) => a.arm).sort()).toEqual(['clip', 'vlm.vqascore']);
    const [c] = summary.comparisons;
    expect(c!.both + c!.onlyArm + c!.onlyBaseline + c!.neither).toBe(24);
    // The table's numbers are the summary's numbers.
    const clip = summary.arms.find((a) => a.arm === 'clip')!;
    const indiv = clip.metrics.headline.find((h) => h.name === 'individual')!;
    expect(indiv.total).toBe(24);
    expect(indiv.correct).toBe(result.samples.filter((s) => s.arm === 'clip' && s.correct).length);
    const ci = clip.ci.individual!;
    expect(report).toContain(`${(100 * indiv.value!).toFixed(1)} [${(100 * ci.low).toFixed(1)}, ${(100 * ci.high).toFixed(1)}] (${indiv.correct}/24)`);

    const manifest = result.run.readJson('manifest.json') as {
      llama_cpp: { tag: string };
      models: Array<{ hash: string; fixture: boolean }>;
      seed: number;
      packages: Record<string, string>;
    } & Record<string, unknown>;
    expect(manifest.llama_cpp.tag).toBe(binaries.tag);
    expect(manifest.models).toHaveLength(2);
    expect(manifest.models.every((m: { hash: string; fixture: boolean }) => /^[0-9a-f]{64}$/.test(m.hash) && m.fixture)).toBe(true);
    expect(manifest.seed).toBe(0);
    expect(manifest.packages['onnxruntime-node']).toBe('1.30.0');
    // Reading the run back gives the same samples.
    expect(RunDirectory.open(result.run.dir).readSamples()).toEqual(result.samples);
  });

  it('records a corrupt image, a missing image and an invalid row as failed items and goes on', async () => {
    const fixtures = path.join(dir, 'fixtures-bad');
    fs.cpSync(path.join(dir, 'fixtures'), fixtures, { recursive: true });
    const annotations = path.join(fixtures, 'whatsup', 'data', 'controlled_images_dataset.json');
    const rows = JSON.parse(fs.readFileSync(annotations, 'utf8')) as Array<{ image_path: string; caption_options: unknown }>;
    const imagePath = (i: number): string => path.join(fixtures, 'whatsup', rows[i]!.image_path);
    fs.writeFileSync(imagePath(0), Buffer.from('this is not a jpeg'));
    fs.rmSync(imagePath(5));
    rows[9]!.caption_options = 'not a list';
    fs.writeFileSync(annotations, JSON.stringify(rows));
    const loaded = loadExperimentConfig(writeConfig('bad', (t) => t.replaceAll('./fixtures/', './fixtures-bad/')));
    const result = await runExperiment(loaded, env, hostTools({ llama: binaries }), { runId: 'bad-test' });
    expect(result.samples).toHaveLength(48);
    const failed = result.samples.filter((s) => s.status === 'failed');
    expect(failed.map((s) => `${s.item} ${s.arm}`).sort()).toEqual(
      ['0', '5', '9'].flatMap((r) => [`whatsup.synthetic/${r} clip`, `whatsup.synthetic/${r} vlm.vqascore`]).sort(),
    );
    const corrupt = failed.find((s) => s.item === 'whatsup.synthetic/0')!;
    expect(corrupt.error!.code).toBe('bad-image');
    expect(corrupt.error!.message).toContain('mug_left_of_plate.jpeg');
    expect(failed.find((s) => s.item === 'whatsup.synthetic/9')!.error!.message).toMatch(/row 9.*caption_options/);
    expect(failed.every((s) => s.correct === null && s.scores === null)).toBe(true);
    const { summary } = await writeRunReport(result.run);
    const vqa = summary.arms.find((a) => a.arm === 'vlm.vqascore')!;
    expect(vqa.failed).toBe(3);
    expect(vqa.metrics.n).toBe(21);
    expect(fs.readFileSync(result.run.file('report.md'), 'utf8')).toContain('## Failed items');
  });

  it('fails with a named error for a missing model file and for an mmproj that does not match', async () => {
    const missing = loadExperimentConfig(writeConfig('missing', (t) => t.replace('tiny-llava-text.gguf', 'nope.gguf')));
    await expect(runExperiment(missing, env, hostTools({ llama: binaries }), { runId: 'missing' })).rejects.toMatchObject({
      code: 'model-not-found',
      message: expect.stringContaining('nope.gguf'),
    });
    // The text GGUF given as the mmproj: llama-server refuses it; the error carries its log tail.
    const wrong = loadExperimentConfig(writeConfig('wrong', (t) => t.replace('tiny-llava-mmproj.gguf', 'tiny-llava-text.gguf')));
    const error = await runExperiment(wrong, env, hostTools({ llama: binaries }), { runId: 'wrong' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PerceiveError);
    expect((error as PerceiveError).message).toMatch(/llama-server/);
    expect((error as PerceiveError).message.split('\n').length).toBeGreaterThan(3);
  });

  it('runs every arm of configs/demo.yaml on the four synthetic sets, and the report has every section', async () => {
    // Its own queue prefix: workers of another checkout sharing the Redis (same tiny model, other code) must not take its jobs.
    const loaded = loadExperimentConfig(writeConfig('demo-full', (t) => `${t}queue:\n  prefix: demo-full-${process.pid}\n`, { minimal: false }));
    const result = await runExperiment(loaded, env, hostTools({ llama: binaries }), { runId: 'demo-full' });
    // Arm ids: the arm, its label, or its prompt variant's name (vlm2vec.question.short): one per entry.
    const arms = [...new Set(result.samples.map((s) => s.arm))];
    expect(arms).toHaveLength(loaded.config.arms.length);
    const items = { 'whatsup.synthetic': 24, 'mmvp.synthetic': 12, 'sugarcrepe.synthetic': 7, 'winoground.synthetic': 2 };
    expect(result.samples).toHaveLength(arms.length * (24 + 12 + 7 + 2));
    // Caption benchmarks have no question for vlm2vec.question (and SugarCrepe no image pair for
    // vlm.two-image): those samples fail as not applicable, with the reason; every other one is ok.
    const notApplicable = (benchmark: string, arm: string): RegExp | undefined => {
      if (benchmark === 'whatsup.synthetic' || benchmark === 'mmvp.synthetic') return undefined;
      if (arm.startsWith('vlm2vec.question')) return /has no meta\.vlm2vec_question or meta\.question/;
      if (benchmark === 'sugarcrepe.synthetic' && arm === 'vlm.two-image') return /needs an image pair/;
      return undefined;
    };
    for (const [benchmark, n] of Object.entries(items)) {
      for (const arm of arms) {
        const mine = result.samples.filter((s) => s.benchmark === benchmark && s.arm === arm);
        expect(mine, `${benchmark} ${arm}`).toHaveLength(n);
        const reason = notApplicable(benchmark, arm);
        if (reason === undefined) {
          expect(
            mine.every((s) => s.status === 'ok'),
            `${benchmark} ${arm}: ${mine.find((s) => s.status !== 'ok')?.error?.message}`,
          ).toBe(true);
        } else {
          for (const s of mine) expect(s.error?.message, `${benchmark} ${arm}`).toMatch(reason);
        }
      }
    }
    // Winoground items hold both images: CLIP records the image–image cosine (erroneous-agreement view).
    for (const s of result.samples.filter((x) => x.benchmark === 'winoground.synthetic' && x.arm === 'clip')) {
      expect(s.scores).toHaveLength(2);
      expect(typeof (s.extra as Record<string, unknown>).image_pair_cosine).toBe('number');
    }
    const { summary } = await writeRunReport(result.run, { wallMs: result.wallMs });
    expect(new Set(summary.arms.map((a) => a.arm))).toEqual(new Set(arms));
    const md = fs.readFileSync(result.run.file('report.md'), 'utf8');
    // The report opens with the headline table (issue 15): each VLM arm against CLIP, before the run details.
    expect(md.split('\n').find((l) => l.startsWith('## '))).toBe('## Headline: generation against contrastive matching');
    expect(summary.headline.find((t) => t.benchmark === 'whatsup.synthetic')?.rows.map((r) => r.arm)).toContain('vlm.mcq');
    for (const heading of [
      '## Accuracy per benchmark and arm',
      '## Per item: generation against contrastive matching',
      '## Differences between arms (prompt ablation)',
      '## Erroneous agreement',
      '## MMVP pairs: one image per prompt, both images in one prompt, relaxed',
      '## Reference numbers from the papers',
    ])
      expect(md).toContain(heading);
    expect(md).toContain('| mmvp.synthetic | all | vlm.two-image | relaxed, two-image |');
    expect(md).toContain('| whatsup.synthetic | vlm2vec.plain | vlm2vec.question |');
    // Option orders (configs/demo.yaml: MMVP fixed, every other set circular): recorded per sample, named per number.
    const letterArms = ['vlm.mcq', 'vlm.mcq.model', 'vlm.mcq.chatml', 'vlm.generate', 'vlm.two-image', 'vlm.contrast', 'vlm.contrast.l1'];
    for (const s of result.samples.filter((x) => letterArms.includes(x.arm) && !x.error)) {
      expect(s.extra.option_order, `${s.item} ${s.arm}`).toBe(s.benchmark === 'mmvp.synthetic' ? 'fixed' : 'circular');
      expect((s.extra.position_picks as number[][]).length).toBe(s.benchmark === 'mmvp.synthetic' ? 1 : s.options.length);
    }
    const core = new Set(['whatsup.synthetic', 'mmvp.synthetic']);
    expect(
      summary.circular_eval
        .filter((c) => c.benchmark === 'whatsup.synthetic')
        .map((c) => `${c.benchmark} ${c.arm} ${c.n}`)
        .sort(),
    ).toEqual(letterArms.map((a) => `whatsup.synthetic ${a} 24`).sort());
    expect(new Set(summary.position_bias.filter((b) => core.has(b.benchmark)).map((b) => `${b.benchmark} ${b.arm} ${b.option_orders.join('/')}`))).toEqual(
      new Set(letterArms.flatMap((a) => [`whatsup.synthetic ${a} circular`, `mmvp.synthetic ${a} fixed`])),
    );
    expect(md).toContain('## Option order: CircularEval and position bias');
    // The linear probes (What'sUp has classes: the preposition), beside zero-shot CLIP and the VLM arms.
    expect(md).toContain('## Linear probe: what the frozen image embedding holds');
    for (const probe of ['probe.image_embeds', 'probe.pooled', 'vlm2vec.probe']) {
      expect(md).toContain(`### whatsup.synthetic: ${probe} (preposition)`);
      expect(summary.arms.some((a) => a.benchmark === 'whatsup.synthetic' && a.arm === probe)).toBe(true);
    }
    expect(fs.readFileSync(result.run.file('tables/probe-folds.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 3 * 24);
    expect(md).toContain('| vlm.mcq | mcq.mmvp+llava-v1@v1, options circular |');
  }, 900_000); // every arm on four sets; the letter arms ask each rotation (274 s before rotations on a loaded 2-core machine)
});
