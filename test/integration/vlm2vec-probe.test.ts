/**
 * `vlm2vec.probe` on real llama-server with the tiny LLaVA-style pair: the embedding it records is
 * the VLM2Vec image-only (plain prompt) last-token embedding the server gives for the image.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { decodeEmbedding } from '../../src/core/embedding-codec.js';
import { readEnvironment } from '../../src/core/environment.js';
import { loadImage, type LoadedImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { ProbeExtraSchema } from '../../src/core/probe-features.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { Vlm2VecProbeArm } from '../../src/models/llama/arms/vlm2vec-probe-arm.js';
import { LlamaRunner } from '../../src/models/llama/llama-runner.js';
import { VLM2VEC_PLAIN } from '../../src/models/llama/prompts/vlm2vec-prompt.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';

let dir: string;
let runner: LlamaRunner;
let items: Item[];
let imgs: LoadedImage[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-vlm2vec-probe-'));
  const binaries = await llamaBinaries();
  const pair = await writeTinyLlava(path.join(dir, 'llava'), { seed: 0 });
  const set = await writeSyntheticWhatsUp(path.join(dir, 'whatsup'), { seed: 0, pairs: 1 });
  items = (await loadWhatsUpControlled(set.annotationFile, { dataDir: set.dataDir, subset: 'controlled_a' })).items;
  imgs = await Promise.all(items.map((i) => loadImage(i.images[0]!)));
  runner = await LlamaRunner.start(
    { kind: 'llama', model: pair.model, mmproj: pair.mmproj, context_size: 2048, threads: 2, slots: 1, server_args: [] },
    { env: { ...readEnvironment(), llamaServerUrl: undefined }, binaries, retry: { initialDelayMs: 100 } },
  );
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await runner?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('vlm2vec.probe on the tiny pair', () => {
  it('records the plain-prompt image embedding, one per image, with zero placeholder scores', async () => {
    const settings = { embedding: 'vlm2vec' as const, folds: 5, l2: 0.01, seed: 0 };
    const arm = new Vlm2VecProbeArm('llava', runner, settings, { padToSquare: false, format: 'llava-v1' }, 'vlm2vec.probe');
    expect(arm.params).toMatchObject({ ...settings, template: VLM2VEC_PLAIN.template });
    for (const [k, item] of items.entries()) {
      const out = await arm.score(item, [imgs[k]!]);
      expect(out.scores).toEqual([[0, 0, 0, 0]]);
      const extra = ProbeExtraSchema.parse(JSON.parse(JSON.stringify(out.extra)));
      expect(extra.probe_settings).toEqual(settings);
      expect(out.extra.image_prompt).toBe(VLM2VEC_PLAIN.template);
      const recorded = decodeEmbedding(extra.probe_features[0]!)!;
      const [direct] = await runner.embed([{ prompt: VLM2VEC_PLAIN.template, images: [imgs[k]!.bytes] }]);
      expect(recorded).toHaveLength(direct!.length);
      let cos = 0;
      for (let i = 0; i < recorded.length; i++) cos += recorded[i]! * direct![i]!;
      expect(cos).toBeCloseTo(1, 5);
    }
  });
});
