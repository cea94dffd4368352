import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VlmMcqArm } from '../../src/models/llama/arms/vlm-mcq-arm.js';
import { VlmContrastArm } from '../../src/models/llama/arms/vlm-contrast-arm.js';
import { VlmGenerateArm } from '../../src/models/llama/arms/vlm-generate-arm.js';
import { VlmTwoImageArm } from '../../src/models/llama/arms/vlm-two-image-arm.js';
import type { Arm, ArmOutput } from '../../src/models/arm.js';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { circularEval } from '../../src/analysis/circular-eval.js';
import { positionBias } from '../../src/analysis/position-bias.js';
import { rotation, seededPermutation, stampOptionOrder } from '../../src/core/option-order.js';
import type { Sample } from '../../src/store/sample.js';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { loadImage, type LoadedImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { LlamaRunner } from '../../src/models/llama/llama-runner.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';

let dir: string;
let runner: LlamaRunner;
let items: Item[];
let imgs: LoadedImage[];
const mcqOptions = { format: 'llava-v1' as const, optionStyle: 'mmvp' as const, padToSquare: false };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-order-'));
  const binaries = await llamaBinaries();
  const pair = await writeTinyLlava(path.join(dir, 'llava'), { seed: 0 });
  const set = await writeSyntheticWhatsUp(path.join(dir, 'whatsup'), { seed: 0, pairs: 3 });
  items = (await loadWhatsUpControlled(set.annotationFile, { dataDir: set.dataDir, subset: 'controlled_a' })).items;
  imgs = await Promise.all(items.map((i) => loadImage(i.images[0]!)));
  fs.mkdirSync(path.join(dir, 'slots'));
  runner = await LlamaRunner.start(
    {
      kind: 'llama',
      model: pair.model,
      mmproj: pair.mmproj,
      context_size: 2048,
      threads: 2,
      slots: 1,
      server_args: ['--slot-save-path', path.join(dir, 'slots')],
    },
    { env: { ...readEnvironment(), llamaServerUrl: undefined }, binaries, retry: { initialDelayMs: 100 } },
  );
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await runner?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A samples.jsonl line of an arm's output on an item, judged by the MMVP family (right = first maximum is `item.correct`). */
function sampleOf(item: Item, arm: Arm, out: ArmOutput): Sample {
  const judged = benchmarkFamily('mmvp').judge(item, out.scores);
  return {
    run_id: 'test',
    task: `${arm.id}/${item.id}`,
    item: item.id,
    benchmark: item.benchmark,
    subset: item.subset,
    arm: arm.id,
    model: 'llava',
    model_hash: arm.modelHash,
    prompt: arm.prompt ?? null,
    images: item.images.map((p) => ({ path: p, sha256: '' })),
    options: item.options,
    correct_option: item.correct,
    status: 'ok',
    scores: out.scores,
    prediction: judged.prediction,
    correct: judged.correct,
    extra: out.extra,
    error: null,
    latency_ms: 0,
    timings: null,
    groups: item.groups,
    source: item.source,
    finished_at: '',
  };
}

async function answer(arm: Arm, list: Item[]): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const item of list) out.push(sampleOf(item, arm, await arm.score(item, [imgs[items.indexOf(source.get(item.id)!)]!])));
  return out;
}

/** The synthetic set's item → the What'sUp item whose image and captions it uses. */
const source = new Map<string, Item>();

/** What'sUp's four captions of each image, the correct one moved to letter position `p` (MMVP-style items: right = item.correct). */
function biasedSet(p: number): Item[] {
  return items.map((i) => {
    const options = i.options.filter((_, k) => k !== i.correct);
    options.splice(p, 0, i.options[i.correct]!);
    const item: Item = { ...i, id: `biased/${i.source.row}`, benchmark: 'biased', subset: 'biased', options, correct: p, groups: {}, meta: {} };
    source.set(item.id, i);
    return item;
  });
}

describe('option_order on real llama-server with the tiny LLaVA-style pair', () => {
  let preferred: number;
  let fixedSamples: Sample[];
  let circularSamples: Sample[];

  it('the tiny model prefers one letter: on a set whose correct option always sits there, fixed gives 100 %, CircularEval 0, and position bias names the letter', async () => {
    // The letter the tiny model prefers, from What'sUp's own items in file order (correct option first).
    const probe = await answer(
      new VlmMcqArm('llava', runner, { ...mcqOptions, optionOrder: 'fixed' }),
      items.slice(0, 4).map((i) => {
        source.set(i.id, i);
        return i;
      }),
    );
    const picks = probe.map((s) => (s.extra.position_picks as number[][])[0]![0]!);
    preferred = picks[0]!;
    expect(new Set(picks)).toEqual(new Set([preferred]));
    expect(preferred).toBe(3); // (d) on the seed-0 tiny pair

    const set = biasedSet(preferred);
    const fixed = new VlmMcqArm('llava', runner, { ...mcqOptions, optionOrder: 'fixed' }, 'vlm.mcq.fixed');
    fixedSamples = await answer(fixed, set);
    expect(fixedSamples.filter((s) => s.correct).length / set.length).toBe(1);
    for (const s of fixedSamples) expect(s.extra.option_order).toBe('fixed');

    const circular = new VlmMcqArm('llava', runner, { ...mcqOptions, optionOrder: 'circular' }, 'vlm.mcq.circular');
    circularSamples = await answer(circular, set);
    const formats = new Map([['biased', 'mmvp']]);
    const ce = circularEval([...fixedSamples, ...circularSamples], formats);
    expect(ce).toEqual([
      { benchmark: 'biased', arm: 'vlm.mcq.circular', option_order: 'circular', n: set.length, correct: 0, value: 0, correct_file_order: set.length },
    ]);

    const bias = positionBias([...fixedSamples, ...circularSamples]);
    const f = bias.find((b) => b.arm === 'vlm.mcq.fixed')!;
    const c = bias.find((b) => b.arm === 'vlm.mcq.circular')!;
    expect(f.preferred).toBe('d');
    expect(c.preferred).toBe('d');
    expect(f.positions.map((p) => p.picked)).toEqual([0, 0, 0, set.length]);
    expect(f.positions.map((p) => p.correct_here)).toEqual([0, 0, 0, set.length]);
    // Under rotation the correct option visits every letter once; the model still says (d).
    expect(c.prompts).toBe(4 * set.length);
    expect(c.positions.map((p) => p.picked)).toEqual([0, 0, 0, 4 * set.length]);
    expect(c.positions.map((p) => p.correct_here)).toEqual([set.length, set.length, set.length, set.length]);
  }, 300_000);

  it('circular: one call round per rotation on the same image (its prefix cached), scores = mean of the rotations mapped back to the file order', () => {
    for (const s of circularSamples) {
      const perms = s.extra.option_permutations as number[][];
      expect(perms).toEqual([0, 1, 2, 3].map((r) => rotation(4, r)));
      const rounds = s.extra.round_scores as number[][][];
      const picks = s.extra.position_picks as number[][];
      // every rotation picked (d): file option (3 + r) mod 4
      expect(picks).toEqual([[3], [3], [3], [3]]);
      for (const [r, m] of rounds.entries()) expect(m[0]!.indexOf(Math.max(...m[0]!))).toBe((3 + r) % 4);
      for (let k = 0; k < 4; k++) expect(s.scores![0]![k]).toBeCloseTo(rounds.reduce((a, m) => a + m[0]![k]!, 0) / 4, 12);
      const calls = s.extra.calls as Array<{ prompt_tokens: number; cached_tokens: number }>;
      expect(calls.length).toBeGreaterThanOrEqual(4);
      // after the first call, the image (16 tokens) and the text before the options come from the cache
      for (const call of calls.slice(1)) expect(call.cached_tokens).toBeGreaterThan(16);
    }
  });

  it('shuffled: one seeded permutation per item (benchmark seed + item id), recorded and mapped back', async () => {
    const stamped = biasedSet(preferred)
      .slice(0, 3)
      .map((i) => stampOptionOrder(i, 'circular', 7));
    const arm = new VlmMcqArm('llava', runner, { ...mcqOptions, optionOrder: 'shuffled' }, 'vlm.mcq.shuffled');
    const got = await answer(arm, stamped);
    for (const [k, s] of got.entries()) {
      const perm = seededPermutation(4, 7, stamped[k]!.id);
      expect(s.extra.option_order).toBe('shuffled');
      expect(s.extra.option_permutations).toEqual([perm]);
      expect((s.extra.position_picks as number[][])[0]).toEqual([3]);
      // the pick (d) maps back to the file option shown there
      expect(s.prediction).toBe(perm[3]);
      expect(s.scores).toEqual((s.extra.round_scores as number[][][])[0]); // one round: its de-permuted scores
    }
    // no option order in config: the stamped default (circular) applies
    const byDefault = await new VlmMcqArm('llava', runner, mcqOptions).score(stamped[0]!, [imgs[0]!]);
    expect(byDefault.extra.option_order).toBe('circular');
  }, 120_000);

  it('vlm.contrast, vlm.two-image and vlm.generate present rotations too', async () => {
    const item = biasedSet(preferred)[0]!;
    // Both arms start from an empty prompt cache: llama.cpp's KV of a prefix depends on how it was
    // batched (~1e-4 on the tiny pair), so the comparison below needs the same evaluation path.
    const eraseCache = async (): Promise<void> => {
      const r = await fetch(`${runner.url}/slots/0?action=erase`, { method: 'POST' });
      expect(r.ok).toBe(true);
    };
    await eraseCache();
    const contrast = await new VlmContrastArm('llava', runner, { ...mcqOptions, lambda: 1, optionOrder: 'circular' }).score(item, [imgs[0]!]);
    expect(contrast.extra.option_order).toBe('circular');
    expect((contrast.extra.round_scores as number[][][]).length).toBe(4);
    await eraseCache();
    const fixedContrast = await new VlmContrastArm('llava', runner, { ...mcqOptions, lambda: 1, optionOrder: 'fixed' }).score(item, [imgs[0]!]);
    // Within 2e-2: even from an erased cache the contrast arm's text-only call reuses the KV its
    // image call left, and llama.cpp's prefix KV depends on batching (docs/architecture.md
    // "Determinism": ~1e-3 on the tiny pair; fresh clones have shown 1.2e-4 and 5.1e-3 here).
    for (let k = 0; k < 4; k++) {
      const fileOrderRound = (contrast.extra.round_scores as number[][][])[0]![0]![k]!;
      expect(Math.abs(fileOrderRound - fixedContrast.scores[0]![k]!)).toBeLessThan(2e-2);
    }

    const pair: Item = { ...item, id: 'pair/0', images: [items[0]!.images[0]!, items[1]!.images[0]!], meta: { correct_per_image: [3, 3] } };
    const two = await new VlmTwoImageArm('llava', runner, { ...mcqOptions, optionOrder: 'circular' }).score(pair, [imgs[0]!, imgs[1]!]);
    expect(two.scores).toHaveLength(2);
    expect((two.extra.position_picks as number[][]).length).toBe(4);
    expect(two.extra.position_correct as number[][]).toEqual([
      [3, 3],
      [2, 2],
      [1, 1],
      [0, 0],
    ]);

    const gen = await new VlmGenerateArm('llava', runner, { format: 'llava-v1', maxTokens: 4, padToSquare: false, optionOrder: 'circular' }).score(item, [
      imgs[0]!,
    ]);
    expect(gen.extra.option_order).toBe('circular');
    expect((gen.extra.round_answers as string[][]).length).toBe(4);
    expect(gen.scores[0]).toHaveLength(4);
  }, 120_000);
});
