import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VlmContrastArm } from '../../src/models/llama/arms/vlm-contrast-arm.js';
import { VlmGenerateArm } from '../../src/models/llama/arms/vlm-generate-arm.js';
import { VlmMcqArm } from '../../src/models/llama/arms/vlm-mcq-arm.js';
import { VlmTwoImageArm } from '../../src/models/llama/arms/vlm-two-image-arm.js';
import { VlmVqascoreArm } from '../../src/models/llama/arms/vlm-vqascore-arm.js';
import { Vlm2VecArm } from '../../src/models/llama/arms/vlm2vec-arm.js';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { readEnvironment } from '../../src/core/environment.js';
import { LLAMA_VOCAB_IDS, loadLlamaTokenizerJs, type LlamaTokenizerJs } from '../../src/fixtures/llama-vocab.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { TINY_LLAVA, writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { loadImage, type LoadedImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { padToSquare } from '../../src/models/llama/pad-to-square.js';
import { VLM2VEC_PLAIN, VLM2VEC_QUESTION } from '../../src/models/llama/prompts/vlm2vec-prompt.js';
import { vqascoreLlava } from '../../src/models/llama/prompts/vqascore-llava.js';
import { LlamaRunner } from '../../src/models/llama/llama-runner.js';
import { LlamaServer } from '../../src/models/llama/llama-server.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';
import { LLAVA_IMAGE_TOKEN, llavaTokenizerImageToken, textChunks } from '../support/llava-image-tokens.js';
import { type RecordedCall, SlotTokenRecorder } from '../support/slot-token-recorder.js';

/**
 * For every llama arm and prompt template, the token ids llama-server evaluates (read back from its
 * own slot, test/support/slot-token-recorder.ts) equal the ids LLaVA-1.5's pipeline builds for the
 * same prompt text: `tokenizer_image_token` with the legacy slow LLaMA tokenizer
 * (test/support/llava-image-tokens.ts), on the tiny pair that carries LLaMA's real vocabulary.
 */

let dir: string;
let server: LlamaServer;
let recorder: SlotTokenRecorder;
let runner: LlamaRunner;
let tokenizer: LlamaTokenizerJs;
let whatsupItem: Item;
let mmvpPair: Item;
let imgs: LoadedImage[];
let marker: string;

/** Rows of the comparison table: arm, chunk, LLaVA ids, llama-server ids, equal. */
const table: string[] = [];

/** The LLaVA reference of a recorded call (its prompt with `<image>` back in place of the marker). */
function reference(call: RecordedCall): number[] {
  return llavaTokenizerImageToken(tokenizer, call.prompt.split(marker).join('<image>'));
}

/**
 * The recorded call's text chunks equal LLaVA's; each image takes TINY_LLAVA.imageTokens positions.
 * Adds the call's rows to the table when `label` is given.
 */
function expectSameAsLlava(call: RecordedCall, label?: string): number[] {
  const ref = reference(call);
  const llava = textChunks(ref, (id) => id === LLAVA_IMAGE_TOKEN);
  const served = textChunks(call.evaluated, (id) => id === -1);
  expect(served, call.prompt).toEqual(llava);
  expect(call.evaluated.filter((id) => id === -1)).toHaveLength(call.images * TINY_LLAVA.imageTokens);
  if (label) {
    llava.forEach((ids, k) => {
      const name = k === 0 ? (call.images > 0 ? 'before image 1' : 'whole prompt') : `after image ${k}`;
      const show = (xs: number[]) =>
        xs.length > 14 ? `${xs.slice(0, 6).join(' ')} … ${xs.slice(-6).join(' ')} (${xs.length})` : `${xs.join(' ')} (${xs.length})`;
      table.push(`| ${label} | ${name} | ${show(ids)} | ${show(served[k] ?? [])} | ${JSON.stringify(ids) === JSON.stringify(served[k]) ? 'yes' : 'NO'} |`);
    });
  }
  return ref;
}

/** The text ids of a LLaVA reference (LLAVA_IMAGE_TOKEN dropped) or of a recorded call (-1 image positions dropped). */
const textIds = (ids: number[]) => ids.filter((id) => id !== LLAVA_IMAGE_TOKEN && id !== -1);

/** Runs `fn` and returns the calls it made. */
async function callsOf(fn: () => Promise<unknown>): Promise<RecordedCall[]> {
  const from = recorder.calls.length;
  await fn();
  return recorder.calls.slice(from);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-llama-vocab-'));
  tokenizer = await loadLlamaTokenizerJs();
  const binaries = await llamaBinaries();
  const pair = await writeTinyLlava(path.join(dir, 'llava'), { seed: 0, vocab: 'llama' });
  const set = await writeSyntheticWhatsUp(path.join(dir, 'whatsup'), { seed: 0, pairs: 1 });
  const loaded = (await loadWhatsUpControlled(set.annotationFile, { dataDir: set.dataDir, subset: 'controlled_a' })).items;
  whatsupItem = { ...loaded[0]!, meta: { ...loaded[0]!.meta, vlm2vec_question: 'Is the mug to the left of or to the right of the plate?' } };
  imgs = await Promise.all(loaded.slice(0, 2).map((i) => loadImage(i.images[0]!)));
  mmvpPair = {
    id: 'pair/0',
    benchmark: 'mmvp',
    subset: 'synthetic',
    images: [loaded[0]!.images[0]!, loaded[1]!.images[0]!],
    options: ['Open', 'Closed'],
    correct: 0,
    groups: {},
    source: { file: 'test', row: 0 },
    meta: { question: "Are the butterfly's wings closer to being open or closed?", correct_per_image: [0, 1] },
  };
  const slotDir = path.join(dir, 'slots');
  fs.mkdirSync(slotDir);
  server = await LlamaServer.start({
    bin: binaries.server,
    model: pair.model,
    mmproj: pair.mmproj,
    threads: 2,
    contextSize: 2048,
    slots: 1,
    extraArgs: ['--slot-save-path', `${slotDir}/`],
  });
  recorder = new SlotTokenRecorder(server.url, slotDir);
  const url = await recorder.start();
  runner = await LlamaRunner.start(
    { kind: 'llama', model: pair.model, mmproj: pair.mmproj, context_size: 2048, threads: 2, slots: 1, server_args: [] },
    { env: { ...readEnvironment(), llamaServerUrl: url }, binaries, retry: { initialDelayMs: 100 } },
  );
  marker = runner.marker;
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await runner?.stop();
  await recorder?.stop();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (table.length > 0 && process.env.PERCEIVE_TOKEN_TABLE) {
    fs.writeFileSync(
      process.env.PERCEIVE_TOKEN_TABLE,
      ['| arm | chunk | LLaVA ids | llama-server ids | equal |', '|---|---|---|---|---|', ...table, ''].join('\n'),
    );
  }
});

describe("LLaMA vocabulary: the ids llama-server evaluates are LLaVA-1.5's", () => {
  it('llama-server /tokenize gives the real ids: ▁Yes 3869, ▁No 1939, </s> 2, ▁ 29871, <0x0A> 13', async () => {
    expect(await runner.tokenize('Yes')).toEqual([LLAMA_VOCAB_IDS.yes]); // add_space_prefix: "▁Yes"
    expect(await runner.tokenize('No')).toEqual([LLAMA_VOCAB_IDS.no]);
    expect(await runner.tokenize('</s>', true)).toEqual([LLAMA_VOCAB_IDS.eos]);
    expect(await runner.tokenize('\n')).toEqual([LLAMA_VOCAB_IDS.space, LLAMA_VOCAB_IDS.newline]);
    expect(await runner.eos()).toBe(2);
    const hello = await runner.client.tokenize('Hello world!', { addSpecial: true });
    expect(hello.ids).toEqual([1, 15043, 3186, 29991]); // llama-tokenizer-js's README example
  });

  it('vlm.vqascore: each call\'s prompt is LLaVA\'s question + "Yes" up to the scored token; the scored tokens are ▁Yes then </s>', async () => {
    const arm = new VlmVqascoreArm('llava', runner, { padToSquare: true });
    const caption = whatsupItem.options[0]!;
    const calls = await callsOf(() => arm.score({ ...whatsupItem, options: [caption] }, [imgs[0]!]));
    const scoring = calls.filter((c) => c.endpoint === '/completion');
    // t2v_metrics: input_ids = tokenizer_image_token(question + "Yes") (+ </s>), labels from the "Yes" token on
    const rendered = vqascoreLlava.render({ caption });
    const full = [...textIds(llavaTokenizerImageToken(tokenizer, rendered.text + 'Yes')), LLAMA_VOCAB_IDS.eos];
    const answerAt = textIds(llavaTokenizerImageToken(tokenizer, rendered.text)).length - 1; // minus the question's trailing "▁"
    expect(full.slice(answerAt)).toEqual([3869, 2]);
    const distinct = [...new Map(scoring.map((c) => [c.prompt, c])).values()];
    expect(distinct).toHaveLength(2); // the context, then the context + " Yes" (each possibly asked twice)
    distinct.forEach((c, k) => {
      const served = textIds(c.evaluated);
      expect(served).toEqual(full.slice(0, answerAt + k));
    });
    expectSameAsLlava(distinct[0]!, 'vlm.vqascore (question, then ▁Yes scored)');
    const direct = await runner.scoreContinuation(rendered.text.slice(0, -1), [await padToSquare(imgs[0]!.bytes)], ' Yes', {
      end: 'eos',
      alternatives: [' No'],
    });
    expect(direct.tokenIds).toEqual([LLAMA_VOCAB_IDS.yes, LLAMA_VOCAB_IDS.eos]);
  });

  for (const optionStyle of ['mmvp', 'lmms-eval'] as const) {
    it(`vlm.mcq (${optionStyle}): the prompt is LLaVA's; the scored letters are ${optionStyle === 'mmvp' ? '▁( then a / b' : '▁A / ▁B'}`, async () => {
      const arm = new VlmMcqArm('llava', runner, { format: 'llava-v1', optionStyle, padToSquare: false });
      let out: Awaited<ReturnType<VlmMcqArm['score']>> | undefined;
      const calls = await callsOf(async () => (out = await arm.score(mmvpPair, [imgs[0]!])));
      const completion = calls.filter((c) => c.endpoint === '/completion');
      expect(completion.length).toBeGreaterThan(0);
      const answers = out!.extra.answers as string[];
      const ids = out!.extra.letter_token_ids as number[];
      for (const c of completion) {
        expectSameAsLlava(c, c === completion[0] ? `vlm.mcq ${optionStyle}` : undefined);
        // LLaVA's tokens of prompt + answer continue the evaluated prompt with the scored letter
        const prompt = c.prompt.split(marker).join('<image>');
        const shared = out!.extra.shared_answer_prefix as string;
        const base = prompt.slice(0, prompt.length - shared.length);
        answers.forEach((a, k) => {
          const full = textIds(llavaTokenizerImageToken(tokenizer, base + a));
          const served = textIds(c.evaluated);
          expect(full.slice(0, served.length)).toEqual(served);
          expect(full[served.length]).toBe(ids[k]);
        });
      }
      const piece = (id: number) => tokenizer.vocabById[id];
      if (optionStyle === 'mmvp') {
        expect(out!.extra.shared_answer_prefix).toBe(' (');
        expect(textIds(completion[0]!.evaluated).at(-1)).toBe(313); // ▁(
        expect(ids.map(piece)).toEqual(['a', 'b']);
      } else {
        expect(out!.extra.shared_answer_prefix).toBe('');
        expect(ids.map(piece)).toEqual(['▁A', '▁B']);
      }
    });
  }

  it("vlm.generate: the prompt is LLaVA's", async () => {
    const arm = new VlmGenerateArm('llava', runner, { format: 'llava-v1', maxTokens: 2, padToSquare: false });
    const calls = await callsOf(() => arm.score(mmvpPair, [imgs[0]!]));
    expect(calls).toHaveLength(1);
    expectSameAsLlava(calls[0]!, 'vlm.generate');
  });

  for (const variant of [VLM2VEC_QUESTION, VLM2VEC_PLAIN]) {
    it(`vlm2vec.${variant.name}: the image prompt and the caption are LLaVA's`, async () => {
      const arm = new Vlm2VecArm('llava', runner, variant, { padToSquare: false });
      const calls = await callsOf(() => arm.score({ ...whatsupItem, options: whatsupItem.options.slice(0, 1) }, [imgs[0]!]));
      const image = calls.find((c) => c.images === 1)!;
      const text = calls.find((c) => c.images === 0)!;
      expectSameAsLlava(image, `vlm2vec.${variant.name} (image side)`);
      expectSameAsLlava(text, variant === VLM2VEC_QUESTION ? 'vlm2vec (caption side)' : undefined);
    });
  }

  it("vlm.two-image: both images' chunks are LLaVA's", async () => {
    const arm = new VlmTwoImageArm('llava', runner, { format: 'llava-v1', optionStyle: 'mmvp', padToSquare: false });
    const calls = await callsOf(() => arm.score(mmvpPair, imgs));
    const completion = calls.filter((c) => c.endpoint === '/completion');
    expect(completion.length).toBeGreaterThan(0);
    completion.forEach((c, k) => {
      expect(c.images).toBe(2);
      expectSameAsLlava(c, k === 0 ? 'vlm.two-image' : undefined);
    });
  });

  it("vlm.contrast: the text-only call (no image) is LLaVA's tokens of the same prompt", async () => {
    const arm = new VlmContrastArm('llava', runner, { format: 'llava-v1', optionStyle: 'mmvp', padToSquare: false, lambda: 1 });
    const calls = await callsOf(() => arm.score(mmvpPair, [imgs[0]!]));
    const textOnly = calls.filter((c) => c.endpoint === '/completion' && c.images === 0);
    const withImage = calls.filter((c) => c.endpoint === '/completion' && c.images === 1);
    expect(textOnly.length).toBeGreaterThan(0);
    expect(withImage.length).toBeGreaterThan(0);
    expectSameAsLlava(textOnly[0]!, 'vlm.contrast (text only)');
    for (const c of [...textOnly, ...withImage]) expectSameAsLlava(c);
  });
});
