import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArmOutput } from '../../src/models/arm.js';
import { armDefinition } from '../../src/models/registry.js';
import { VlmContrastArm } from '../../src/models/llama/arms/vlm-contrast-arm.js';
import { VlmGenerateArm, UNPARSEABLE_CORRECT_SCORE } from '../../src/models/llama/arms/vlm-generate-arm.js';
import { VlmMcqArm } from '../../src/models/llama/arms/vlm-mcq-arm.js';
import { VlmTwoImageArm } from '../../src/models/llama/arms/vlm-two-image-arm.js';
import { Vlm2VecArm } from '../../src/models/llama/arms/vlm2vec-arm.js';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { ArmSpecSchema } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { loadImage, type LoadedImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { VLM2VEC_PLAIN, VLM2VEC_QUESTION } from '../../src/models/llama/prompts/vlm2vec-prompt.js';
import { LlamaRunner, isRetryable } from '../../src/models/llama/llama-runner.js';
import { LlamaServerHttpError } from '../../src/models/llama/llama-client.js';
import { PerceiveError } from '../../src/core/errors.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';

let dir: string;
let runner: LlamaRunner;
let items: Item[];
let pairItem: Item;
let imgs: LoadedImage[];

const mcqOptions = { format: 'llava-v1' as const, optionStyle: 'mmvp' as const, padToSquare: false };

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function expectWellFormed(out: ArmOutput, images: number, options: number): void {
  expect(out.scores).toHaveLength(images);
  for (const row of out.scores) {
    expect(row).toHaveLength(options);
    for (const v of row) expect(Number.isFinite(v)).toBe(true);
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-arms-'));
  const binaries = await llamaBinaries();
  const pair = await writeTinyLlava(path.join(dir, 'llava'), { seed: 0 });
  const set = await writeSyntheticWhatsUp(path.join(dir, 'whatsup'), { seed: 0, pairs: 2 });
  const loaded = (await loadWhatsUpControlled(set.annotationFile, { dataDir: set.dataDir, subset: 'controlled_a' })).items;
  // D's loader puts Li et al.'s question here; the test sets it by hand.
  items = loaded.map((i) => ({
    ...i,
    meta: { ...i.meta, vlm2vec_question: `Is the ${String(i.meta.obj1)} to the left of or to the right of the ${String(i.meta.obj2)}?` },
  }));
  imgs = await Promise.all(items.map((i) => loadImage(i.images[0]!)));
  // An MMVP-style pair: two images, a question, two options, one answer per image.
  pairItem = {
    id: 'pair/0',
    benchmark: 'mmvp',
    subset: 'synthetic',
    images: [items[0]!.images[0]!, items[1]!.images[0]!],
    options: ['Left', 'Right'],
    correct: 0,
    groups: {},
    source: { file: 'test', row: 0 },
    meta: { question: 'Is the mug to the left or to the right of the plate?', correct_per_image: [0, 1] },
  };
  runner = await LlamaRunner.start(
    { kind: 'llama', model: pair.model, mmproj: pair.mmproj, context_size: 2048, threads: 2, slots: 1, server_args: [] },
    { env: { ...readEnvironment(), llamaServerUrl: undefined }, binaries, retry: { initialDelayMs: 100 } },
  );
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await runner?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('VLM arms on real llama-server with the tiny LLaVA-style pair', () => {
  it('vlm.mcq: renormalised letter probabilities sum to 1, scored with the grammar route, deterministic', async () => {
    const arm = new VlmMcqArm('llava', runner, mcqOptions);
    const out = await arm.score(items[0]!, [imgs[0]!]);
    expectWellFormed(out, 1, items[0]!.options.length);
    const probs = out.extra.letter_probs as number[][];
    expect(probs[0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const [j, p] of probs[0]!.entries()) expect(Math.log(p)).toBeCloseTo(out.scores[0]![j]!, 12);
    expect(out.extra.route).toEqual(['grammar']);
    // MMVP's "(a)" answers share "▁(": it goes into the prompt and the letters after it are scored.
    expect(out.extra.shared_answer_prefix).toBe(' (');
    expect(out.extra.answers).toEqual([' (a)', ' (b)', ' (c)', ' (d)']);
    const again = await arm.score(items[0]!, [imgs[0]!]);
    for (let j = 0; j < 4; j++) expect(again.scores[0]![j]).toBeCloseTo(out.scores[0]![j]!, 6);
  });

  it('vlm.mcq: the grammar route equals the full-vocabulary softmax renormalised over the letters', async () => {
    const arm = new VlmMcqArm('llava', runner, { ...mcqOptions, optionStyle: 'lmms-eval' });
    const out = await arm.score(items[1]!, [imgs[1]!]);
    const ids = out.extra.letter_token_ids as number[];
    expect(ids).toEqual([354, 355, 356, 357]); // ▁A..▁D of the tiny vocabulary
    const nVocab = (await runner.client.modelInfo()).nVocab!;
    const prompt = `A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the human's questions. USER: ${runner.marker}\n${String(out.extra.question)}\n${items[1]!.options.map((o, k) => `${'ABCD'[k]}. ${o}`).join('\n')}\nAnswer with the option's letter from the given choices directly. ASSISTANT:`;
    const r = await runner.client.completion({ prompt, images: [imgs[1]!.bytes], nPredict: 1, nProbs: nVocab, temperature: 0 });
    const top = new Map(r.probabilities[0]!.top.map((t) => [t.id, t.logprob]));
    const lps = ids.map((id) => top.get(id)!);
    const sum = lps.reduce((a, v) => a + Math.exp(v), 0);
    lps.forEach((lp, k) => expect((out.extra.letter_probs as number[][])[0]![k]).toBeCloseTo(Math.exp(lp) / sum, 5));
  });

  it('the second prompt on the same image reports cached tokens', async () => {
    const arm = new VlmMcqArm('llava', runner, mcqOptions);
    const swapped = { ...items[2]!, options: [...items[2]!.options].reverse() };
    await arm.score(items[2]!, [imgs[2]!]);
    const second = await arm.score(swapped, [imgs[2]!]);
    const calls = second.extra.calls as Array<{ prompt_tokens: number; cached_tokens: number }>;
    expect(calls[0]!.cached_tokens).toBeGreaterThan(16); // the 16 image tokens and the text before the options
    expect(second.timings!.cachedTokens).toBe(calls.reduce((a, c) => a + c.cached_tokens, 0));
    // a cold scored prompt is asked again so that its last token is always evaluated alone
    // (LlamaRunner.scoringCompletion): the repeat has everything but that token cached
    expect(calls.at(-1)!.cached_tokens).toBe(calls.at(-1)!.prompt_tokens - 1);
  });

  it('vlm.contrast with λ = 0 equals vlm.mcq; λ = 1 is ℓ_c + (ℓ_c − ℓ_u)', async () => {
    const mcq = await new VlmMcqArm('llava', runner, mcqOptions).score(items[3]!, [imgs[3]!]);
    const zero = await new VlmContrastArm('llava', runner, { ...mcqOptions, lambda: 0 }).score(items[3]!, [imgs[3]!]);
    const one = await new VlmContrastArm('llava', runner, { ...mcqOptions, lambda: 1 }).score(items[3]!, [imgs[3]!]);
    expectWellFormed(zero, 1, 4);
    for (let j = 0; j < 4; j++) expect(zero.scores[0]![j]).toBeCloseTo(mcq.scores[0]![j]!, 6);
    const lu = one.extra.logprobs_text_only as number[];
    const lc = (one.extra.logprobs_image as number[][])[0]!;
    expect(lu.reduce((a, v) => a + Math.exp(v), 0)).toBeCloseTo(1, 12);
    for (let j = 0; j < 4; j++) expect(one.scores[0]![j]).toBeCloseTo(2 * lc[j]! - lu[j]!, 12);
    expect(lu).not.toEqual(lc); // the image changes the distribution
  });

  it('vlm.two-image: a 2 × options matrix from one prompt with both images, and the relaxed pair result', async () => {
    const arm = new VlmTwoImageArm('llava', runner, mcqOptions);
    const pairImages = [imgs[0]!, imgs[1]!];
    const out = await arm.score(pairItem, pairImages);
    expectWellFormed(out, 2, 2);
    const rp = out.extra.relaxed_pair as { variant: string; p_image1: number; p_image2: number; correct: boolean };
    expect(rp.variant).toBe('two-image');
    expect(rp.correct).toBe(rp.p_image1 > rp.p_image2);
    const calls = out.extra.calls as Array<{ prompt_tokens: number; cached_tokens: number }>;
    expect(calls[1]!.cached_tokens).toBeGreaterThan(32); // the second question reuses both images
    const single = await new VlmMcqArm('llava', runner, mcqOptions).score(pairItem, pairImages);
    expect((single.extra.relaxed_pair as { variant: string }).variant).toBe('single-image');
    const again = await arm.score(pairItem, pairImages);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(again.scores[i]![j]).toBeCloseTo(out.scores[i]![j]!, 6);
    await expect(arm.score(items[0]!, [imgs[0]!])).rejects.toThrow(/needs an image pair/);
  });

  it('vlm.two-image on the two single-image items of a pair (groups.pair): both images in the prompt, its own row', async () => {
    const arm = new VlmTwoImageArm('llava', runner, mcqOptions);
    const byPath = new Map(imgs.map((im) => [im.path, im]));
    await arm.prepare(items, async (p) => byPath.get(p)!);
    const k0 = 0;
    const k1 = items.findIndex((it, k) => k !== k0 && it.groups.pair === items[k0]!.groups.pair);
    expect(k1).toBeGreaterThan(0);
    const first = await arm.score(items[k0]!, [imgs[k0]!]);
    const second = await arm.score(items[k1]!, [imgs[k1]!]);
    expectWellFormed(first, 1, 4);
    expectWellFormed(second, 1, 4);
    expect(first.extra.pair_partner).toBe(items[k1]!.id);
    expect(first.extra.pair_position).toBe(0);
    expect(second.extra.pair_position).toBe(1);
    const rp = first.extra.relaxed_pair as { variant: string; p_image1: number; p_image2: number; correct: boolean };
    expect(rp.variant).toBe('two-image');
    expect(rp.p_image1).toBeCloseTo(Math.exp(first.scores[0]![items[k0]!.correct]!), 12);
    expect(second.extra.relaxed_pair).toBeUndefined(); // recorded once per pair
    const calls = first.extra.calls as Array<{ prompt_tokens: number; cached_tokens: number }>;
    expect(calls[0]!.prompt_tokens).toBeGreaterThan(32); // two images of 16 tokens each
    // An item whose partner was not given to prepare is not applicable.
    const lonely = new VlmTwoImageArm('llava', runner, mcqOptions);
    await lonely.prepare([items[k0]!], async (p) => byPath.get(p)!);
    await expect(lonely.score(items[k0]!, [imgs[k0]!])).rejects.toThrow(/needs an image pair/);
  });

  it('the two-image prompt evaluates twice the image tokens of the one-image prompt', async () => {
    const text = '\nWhich one?';
    const n0 = (await runner.generate(`USER:${text}`, [], { maxTokens: 1 })).timings.promptTokens;
    const n1 = (await runner.generate(`USER:<image>${text}`, [imgs[0]!.bytes], { maxTokens: 1 })).timings.promptTokens;
    const n2 = (await runner.generate(`USER:<image><image>${text}`, [imgs[0]!.bytes, imgs[1]!.bytes], { maxTokens: 1 })).timings.promptTokens;
    expect(n1 - n0).toBe(16); // the tiny mmproj gives 16 image tokens
    expect(n2 - n0).toBe(2 * (n1 - n0));
  });

  it('vlm.generate: a greedy answer, parsed with the recorded parser, deterministic', async () => {
    const arm = new VlmGenerateArm('llava', runner, { format: 'llava-v1', maxTokens: 8, padToSquare: false });
    const out = await arm.score(items[0]!, [imgs[0]!]);
    expectWellFormed(out, 1, 4);
    expect(out.extra.parser).toEqual({ id: 'rule-parser', version: 1 });
    const answers = out.extra.answers as string[];
    expect(typeof answers[0]).toBe('string');
    const unparseable = (out.extra.unparseable as boolean[])[0]!;
    const parsed = (out.extra.parsed as Array<number | null>)[0];
    if (unparseable) {
      expect(parsed).toBeNull();
      expect(out.scores[0]![items[0]!.correct]).toBe(UNPARSEABLE_CORRECT_SCORE);
      expect(Math.max(...out.scores[0]!)).toBe(0);
    } else {
      expect(out.scores[0]![parsed!]).toBe(1);
    }
    expect(out.timings!.calls).toBe(1);
    const again = await arm.score(items[0]!, [imgs[0]!]);
    expect(again.extra.answers).toEqual(out.extra.answers);
    expect(again.scores).toEqual(out.scores);
  });

  it('vlm2vec: the question changes the image embedding; the same request gives the same vector', async () => {
    const q = `${VLM2VEC_QUESTION.template.replace('{question}', String(items[0]!.meta.vlm2vec_question))}`;
    const [withQ, plain, withQAgain] = await runner.embed([
      { prompt: q, images: [imgs[0]!.bytes] },
      { prompt: VLM2VEC_PLAIN.template, images: [imgs[0]!.bytes] },
      { prompt: q, images: [imgs[0]!.bytes] },
    ]);
    expect(dot(withQ!, withQ!)).toBeCloseTo(1, 5);
    expect(dot(withQ!, plain!)).toBeLessThan(0.999);
    expect(Array.from(withQAgain!)).toEqual(Array.from(withQ!));
    const [repeat] = await runner.embed([{ prompt: q, images: [imgs[0]!.bytes] }]);
    expect(dot(repeat!, withQ!)).toBeCloseTo(1, 6);

    const question = new Vlm2VecArm('llava', runner, VLM2VEC_QUESTION, { padToSquare: false });
    const out = await question.score(items[0]!, [imgs[0]!]);
    expectWellFormed(out, 1, 4);
    expect(out.extra.image_prompt).toBe(q.replace('<image>', '<image>'));
    expect(out.extra.question_source).toBe('meta.vlm2vec_question');
    for (const v of out.scores[0]!) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
    const plainOut = await new Vlm2VecArm('llava', runner, VLM2VEC_PLAIN, { padToSquare: false }).score(items[0]!, [imgs[0]!]);
    expect(plainOut.scores[0]).not.toEqual(out.scores[0]);
    const again = await question.score(items[0]!, [imgs[0]!]);
    for (let j = 0; j < 4; j++) expect(again.scores[0]![j]).toBeCloseTo(out.scores[0]![j]!, 6);
    const noQuestion = { ...items[0]!, meta: {} };
    await expect(question.score(noQuestion, [imgs[0]!])).rejects.toThrow(/no meta.vlm2vec_question/);
  });

  it('the `model` prompt format renders through the GGUF chat template and still scores', async () => {
    const rendered = await runner.chatPrompt('<image>\nHello');
    expect(rendered).toContain('<image>\nHello');
    const spec = ArmSpecSchema.parse({ arm: 'vlm.mcq', model: 'llava', prompt_format: 'model', label: 'vlm.mcq.model' });
    const arm = armDefinition(spec.arm).create(spec, runner as never, 'vlm.mcq.model');
    expect(arm.id).toBe('vlm.mcq.model');
    expect(arm.prompt).toEqual({ id: 'mcq.mmvp+model', version: 1 });
    const out = await arm.score(items[0]!, [imgs[0]!]);
    expectWellFormed(out, 1, 4);
  });

  it('metadata: GGUF architecture, quantisation and parameters, the mmproj hash and the build info', async () => {
    const m = await runner.metadata();
    expect(m.model.architecture).toBe('llama');
    expect(m.mmproj.architecture).toBe('clip');
    expect(m.model.parameters).toBeGreaterThan(1000);
    expect(m.model.quantisation).toMatch(/^(ALL_F32|MOSTLY_F16|file_type \d+)$|^MOSTLY_/);
    expect(m.mmprojSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.buildInfo).toMatch(/\S/);
  });

  it('a llama-server killed with SIGKILL mid-run is restarted, and every task is done once', async () => {
    const arm = new VlmMcqArm('llava', runner, mcqOptions);
    const reference = await arm.score(items[4]!, [imgs[4]!]);
    const restartsBefore = runner.restarts;
    const done: string[] = [];
    const results = new Map<string, ArmOutput>();
    const tasks = items.map((item, k) => ({ item, image: imgs[k]! }));
    let killed = false;
    for (const [k, t] of tasks.entries()) {
      const pending = arm.score(t.item, [t.image]);
      if (k === 2) {
        // kill the server while this task's request is in flight
        const pid = runner.currentServer.pid!;
        process.kill(pid, 'SIGKILL');
        killed = true;
      }
      const out = await pending;
      done.push(t.item.id);
      results.set(t.item.id, out);
    }
    expect(killed).toBe(true);
    expect(runner.restarts).toBe(restartsBefore + 1);
    expect(done).toEqual(items.map((i) => i.id));
    expect(new Set(done).size).toBe(items.length);
    const after = results.get(items[4]!.id)!;
    for (let j = 0; j < 4; j++) expect(after.scores[0]![j]).toBeCloseTo(reference.scores[0]![j]!, 6);
  });

  it('retries connection errors, timeouts and 5xx answers, never 4xx answers or wrong shapes', async () => {
    expect(isRetryable(new PerceiveError('server-unreachable', 'x'))).toBe(true);
    expect(isRetryable(new PerceiveError('server-timeout', 'x'))).toBe(true);
    expect(isRetryable(new LlamaServerHttpError('/completion', 503, 'loading'))).toBe(true);
    expect(isRetryable(new LlamaServerHttpError('/completion', 400, 'Failed to initialize samplers: failed to parse grammar'))).toBe(false);
    expect(isRetryable(new PerceiveError('bad-server-answer', 'x'))).toBe(false);
    // a real 4xx from the server fails at once, and the server keeps running
    const restarts = runner.restarts;
    await expect(runner.client.completion({ prompt: 'hi', nPredict: 1, grammar: 'root ::= (((' })).rejects.toMatchObject({ status: 400 });
    expect(runner.restarts).toBe(restarts);
  });

  it('a request past its timeout is retried on a restarted server, then fails with server-timeout', async () => {
    const binaries = await llamaBinaries();
    const pair = runner.files as [string, string];
    const slow = await LlamaRunner.start(
      { kind: 'llama', model: pair[0], mmproj: pair[1], context_size: 2048, threads: 1, slots: 2, server_args: [], request_timeout_ms: 1 },
      { env: { ...readEnvironment(), llamaServerUrl: undefined }, binaries, retry: { attempts: 2, initialDelayMs: 10 } },
    );
    try {
      expect(slow.props.totalSlots).toBe(2); // -np from the model's `slots`
      await expect(slow.generate('USER: <image>\nDescribe.', [imgs[0]!.bytes], { maxTokens: 64 })).rejects.toMatchObject({ code: 'server-timeout' });
      expect(slow.restarts).toBe(1); // the hung server was stopped and a new one started for the retry
    } finally {
      await slow.stop();
    }
  });
});
