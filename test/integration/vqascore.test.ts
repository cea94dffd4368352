import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VlmVqascoreArm } from '../../src/models/llama/arms/vlm-vqascore-arm.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { loadImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { padToSquare } from '../../src/models/llama/pad-to-square.js';
import { vqascoreLlava } from '../../src/models/llama/prompts/vqascore-llava.js';
import { LlamaRunner } from '../../src/models/llama/llama-runner.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';

let dir: string;
let runner: LlamaRunner;
let items: Item[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-vqa-'));
  const binaries = await llamaBinaries();
  const pair = await writeTinyLlava(path.join(dir, 'llava'), { seed: 0 });
  const set = await writeSyntheticWhatsUp(path.join(dir, 'whatsup'), { seed: 0, pairs: 1 });
  items = (await loadWhatsUpControlled(set.annotationFile, { dataDir: set.dataDir, subset: 'controlled_a' })).items;
  runner = await LlamaRunner.start(
    { kind: 'llama', model: pair.model, mmproj: pair.mmproj, context_size: 2048, threads: 2, slots: 1, server_args: [] },
    { env: { ...readEnvironment(), llamaServerUrl: undefined }, binaries },
  );
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await runner?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** log P(token) at the next position, read from the full-vocabulary answer of llama-server. */
async function fullLogprob(prompt: string, image: Buffer, tokenId: number): Promise<number> {
  const nVocab = (await runner.client.modelInfo()).nVocab!;
  const r = await runner.client.completion({ prompt: prompt.replace('<image>', runner.marker), images: [image], nPredict: 1, nProbs: nVocab, temperature: 0 });
  const entry = r.probabilities[0]!.top.find((t) => t.id === tokenId);
  expect(entry, `token ${tokenId} in the full vocabulary`).toBeDefined();
  return entry!.logprob;
}

describe('vlm.vqascore on real llama-server with the tiny LLaVA-style pair', () => {
  it('splits "ASSISTANT: Yes" as t2v_metrics does: the trailing space merges into ▁Yes', async () => {
    const tail = vqascoreLlava.render({ caption: 'A mug on a plate' }).text.split('<image>')[1]!;
    const withSpace = await runner.tokenize(tail);
    const withoutSpace = await runner.tokenize(tail.slice(0, -1));
    const full = await runner.tokenize(`${tail}Yes`);
    // The question's tokenization ends with a lone "▁" that the answer absorbs (hence "length - 1").
    expect(withSpace.length).toBe(withoutSpace.length + 1);
    expect(full.slice(0, withoutSpace.length)).toEqual(withoutSpace);
    expect(full.length).toBe(withoutSpace.length + 1);
    expect(full.at(-1)).toBe((await runner.tokenize(' Yes')).at(-1));
  });

  it('equals the geometric mean of P(▁Yes) and P(</s>) computed by hand from the returned log-probabilities', async () => {
    const arm = new VlmVqascoreArm('llava', runner, { padToSquare: true });
    const item = items[0]!;
    const image = await loadImage(item.images[0]!);
    const out = await arm.score(item, [image]);
    const returned = (out.extra.answer_logprobs as number[][][])[0]!;
    const pYes = (out.extra.p_yes as number[][])[0]!;
    const pNo = (out.extra.p_no as number[][])[0]!;
    for (let j = 0; j < item.options.length; j++) {
      const [lpYes, lpEos] = returned[j]!;
      expect(returned[j]).toHaveLength(2); // ▁Yes and </s>
      const byHand = Math.sqrt(Math.exp(lpYes!) * Math.exp(lpEos!));
      const score = out.scores[0]![j]!;
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
      expect(Math.abs(score - byHand) / byHand).toBeLessThan(1e-12);
      expect(pYes[j]).toBe(Math.exp(lpYes!));
      expect(pYes[j]! + pNo[j]!).toBeLessThanOrEqual(1);
    }
    expect(out.timings!.cachedTokens).toBeGreaterThan(0);
  });

  it('agrees with independent full-vocabulary requests for the same tokens', async () => {
    // Each request here re-evaluates a different suffix of the cached prompt, so the logits may
    // differ from the arm's in the last float bits (llama.cpp batch-size effects): relative 1e-4.
    const arm = new VlmVqascoreArm('llava', runner, { padToSquare: true });
    const item = items[1]!;
    const image = await loadImage(item.images[0]!);
    const out = await arm.score(item, [image]);
    const padded = await padToSquare(image.bytes);
    const yesId = (await runner.tokenize(' Yes')).at(-1)!;
    const noId = (await runner.tokenize(' No')).at(-1)!;
    const eosId = await runner.eos();
    for (let j = 0; j < item.options.length; j++) {
      const context = vqascoreLlava.render({ caption: item.options[j]! }).text.slice(0, -1);
      const lpYes = await fullLogprob(context, padded, yesId);
      const lpNo = await fullLogprob(context, padded, noId);
      const lpEos = await fullLogprob(`${context} Yes`, padded, eosId);
      const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
      expect(rel(out.scores[0]![j]!, Math.sqrt(Math.exp(lpYes) * Math.exp(lpEos)))).toBeLessThan(1e-4);
      expect(rel((out.extra.p_no as number[][])[0]![j]!, Math.exp(lpNo))).toBeLessThan(1e-4);
      expect(Math.exp(lpYes) + Math.exp(lpNo)).toBeLessThanOrEqual(1);
    }
  });

  it('is identical across repeated calls and varies with the image', async () => {
    const arm = new VlmVqascoreArm('llava', runner, { padToSquare: true });
    const a = await loadImage(items[0]!.images[0]!);
    const b = await loadImage(items[2]!.images[0]!);
    const first = await arm.score(items[0]!, [a]);
    const again = await arm.score(items[0]!, [a]);
    expect(again.scores).toEqual(first.scores);
    expect(again.extra).toEqual(first.extra);
    const other = await arm.score(items[0]!, [b]);
    expect(other.scores).not.toEqual(first.scores);
  });
});
