import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArmOutput } from '../../src/models/arm.js';
import { armDefinition } from '../../src/models/registry.js';
import { ArmSpecSchema } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { loadImage, type LoadedImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { buildTinyVocab, writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { TINY_CHAT_TEMPLATES, type TinyChatTemplate } from '../../src/fixtures/tiny-chat-templates.js';
import { LlamaRunner } from '../../src/models/llama/llama-runner.js';
import { vqascoreChat } from '../../src/models/llama/prompts/vqascore-chat.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';

/**
 * Issue 12.3: the llama arms under `prompt_format: model` on tiny pairs whose GGUF carries another
 * family's chat template (ChatML, Gemma) with its control tokens; the end-of-turn comes from the model.
 */

let dir: string;
let items: Item[];
let imgs: LoadedImage[];
let pairItem: Item;

function expectWellFormed(out: ArmOutput, images: number, options: number): void {
  expect(out.scores).toHaveLength(images);
  for (const row of out.scores) {
    expect(row).toHaveLength(options);
    for (const v of row) expect(Number.isFinite(v)).toBe(true);
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-chat-'));
  const set = await writeSyntheticWhatsUp(path.join(dir, 'whatsup'), { seed: 0, pairs: 1 });
  const loaded = (await loadWhatsUpControlled(set.annotationFile, { dataDir: set.dataDir, subset: 'controlled_a' })).items;
  items = loaded.map((i) => ({ ...i, meta: { ...i.meta, vlm2vec_question: `Is the ${String(i.meta.obj1)} left of the ${String(i.meta.obj2)}?` } }));
  imgs = await Promise.all(items.map((i) => loadImage(i.images[0]!)));
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
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const ARMS = ['vlm.vqascore', 'vlm.mcq', 'vlm.generate', 'vlm2vec.question', 'vlm2vec.plain', 'vlm.two-image', 'vlm.contrast'] as const;

describe.each(['chatml', 'gemma'] as TinyChatTemplate[])('prompt_format: model on a tiny pair with the %s template', (name) => {
  const chat = TINY_CHAT_TEMPLATES[name];
  const [startMarker, endMarker] = chat.specialTokens as [string, string];
  // "Ye", "Yes", "No", then the two control tokens follow the tiny vocabulary
  const eotId = buildTinyVocab().tokens.length + 4;
  let runner: LlamaRunner;

  beforeAll(async () => {
    const binaries = await llamaBinaries();
    const pair = await writeTinyLlava(path.join(dir, name), { seed: 0, chatTemplate: name });
    runner = await LlamaRunner.start(
      { kind: 'llama', model: pair.model, mmproj: pair.mmproj, context_size: 2048, threads: 2, slots: 1, server_args: [] },
      { env: { ...readEnvironment(), llamaServerUrl: undefined }, binaries, retry: { initialDelayMs: 100 } },
    );
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await runner?.stop();
  });

  it('reads the end-of-turn token from the model, not the EOS', async () => {
    const eot = await runner.endOfTurn();
    expect(eot).toEqual({ id: eotId, text: endMarker, source: chat.writeEotId ? 'eot_token_id' : 'token text' });
    expect(await runner.eos()).toBe(2); // </s>: what llava-v1 VQAScore still appends
    expect(await runner.tokenize(`${startMarker}user\nhi${endMarker}`, true)).toEqual(expect.arrayContaining([eotId - 1, eotId]));
  });

  it('renders a user turn with the template markers, generation prompt last', async () => {
    const p = await runner.chatPrompt(vqascoreChat.userTurn('a mug left of a plate'));
    expect(p).toBe(
      `${startMarker}user\n<image>\nDoes this figure show "a mug left of a plate"? Please answer yes or no.${endMarker}\n${chat.generationPrompt}`,
    );
  });

  it('vlm.vqascore scores "Yes" then the model\'s end-of-turn id', async () => {
    const spec = ArmSpecSchema.parse({ arm: 'vlm.vqascore', model: name, prompt_format: 'model', label: `vlm.vqascore.${name}` });
    const arm = armDefinition(spec.arm).create(spec, runner as never, `vlm.vqascore.${name}`);
    expect(arm.prompt).toEqual({ id: 't2v_metrics.vqascore.question+model', version: 1 });
    const out = await arm.score(items[0]!, [imgs[0]!]);
    expectWellFormed(out, 1, items[0]!.options.length);
    expect(out.extra.end_of_turn).toEqual({ id: eotId, text: endMarker, source: chat.writeEotId ? 'eot_token_id' : 'token text' });
    const ids = (out.extra.answer_token_ids as number[][][])[0]![0]!;
    expect(ids).toEqual([eotId - 3, eotId]); // "Yes", end-of-turn
    expect(await runner.client.detokenize([ids[0]!])).toBe('Yes');
    const lps = (out.extra.answer_logprobs as number[][][])[0]![0]!;
    expect(lps).toHaveLength(ids.length);
    expect(out.scores[0]![0]).toBeCloseTo(Math.exp(lps.reduce((a, b) => a + b, 0) / lps.length), 12);
    expect((out.extra.p_eos as number[][])[0]![0]).toBeCloseTo(Math.exp(lps.at(-1)!), 12);
  });

  it('vlm.generate stops at the end-of-turn token', async () => {
    const turn = await runner.chatPrompt('<image>\nWhat is in the image?');
    const g = await runner.generate(turn, [imgs[0]!.bytes], { maxTokens: 32 });
    expect(g.stopType).toBe('eos');
    expect(g.tokens.length).toBeLessThan(32);
    expect(g.text).not.toContain(endMarker);
  });

  it('every arm gives a well-formed score matrix, its prompt id marked +model, prompts carrying the markers', async () => {
    for (const armName of ARMS) {
      const spec = ArmSpecSchema.parse({ arm: armName, model: name, prompt_format: 'model' });
      const id = `${armName}.${name}`;
      const arm = armDefinition(spec.arm).create(spec, runner as never, id);
      expect(arm.prompt!.id.endsWith('+model')).toBe(true);
      const two = armName === 'vlm.two-image';
      const item = two ? pairItem : items[0]!;
      const images = two ? [imgs[0]!, imgs[1]!] : [imgs[0]!];
      const out = await arm.score(item, images);
      expectWellFormed(out, images.length, item.options.length);
      if (armName.startsWith('vlm2vec')) {
        const prompt = String(out.extra.image_prompt);
        expect(prompt.startsWith(`${startMarker}user\n<image> Represent the given image`)).toBe(true);
        expect(prompt.endsWith(`${endMarker}\n${chat.generationPrompt}`)).toBe(true);
      }
    }
  });
});
