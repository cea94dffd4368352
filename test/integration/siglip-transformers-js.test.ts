/**
 * An independent reader of the same folder: transformers.js (dev dependency, offline) loads the tiny
 * SigLIP with its own tokenizer, image processor and SiglipTextModel / SiglipVisionModel, and must
 * agree with the siglip kind. transformers.js does not lowercase or strip punctuation for SigLIP
 * (the Python SiglipTokenizer does), so the texts here are already lowercase and unpunctuated.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinySiglip } from '../../src/fixtures/tiny-siglip.js';
import { SiglipEncoder } from '../../src/models/siglip/siglip-encoder.js';
import { siglipPreprocessor } from '../../src/models/siglip/siglip-preprocessor.js';
import { cosine } from '../../src/models/clip/clip-encoder.js';

let tmp: string;
let encoder: SiglipEncoder;
let tf: typeof import('@huggingface/transformers');

const TEXTS = ['a photo of a dog', 'a mug to the left of a plate', 'a zebu under the table'];

const rows = (data: Float32Array, n: number) => Array.from({ length: n }, (_, i) => data.slice((i * data.length) / n, ((i + 1) * data.length) / n));

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'siglip-tjs-'));
  await writeTinySiglip(path.join(tmp, 'tiny'), { seed: 5 });
  encoder = await SiglipEncoder.load(path.join(tmp, 'tiny'), { threads: 1 });
  tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = `${tmp}/`;
});

afterAll(async () => {
  await encoder?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('the siglip kind against transformers.js on the tiny SigLIP', () => {
  it('gives the same input_ids as padding="max_length", and the same text embeddings', async () => {
    const tokenizer = await tf.AutoTokenizer.from_pretrained('tiny');
    const theirs = tokenizer(TEXTS, { padding: 'max_length', truncation: true, max_length: 64 });
    const ours = encoder.tokenizer.encodeBatch(TEXTS);
    expect(theirs.input_ids.dims).toEqual([3, 64]);
    expect(Array.from(ours.inputIds, Number)).toEqual(Array.from(theirs.input_ids.data as BigInt64Array, Number));
    const model = await tf.SiglipTextModel.from_pretrained('tiny', { dtype: 'fp32', session_options: { intraOpNumThreads: 1 } });
    try {
      const out = (await model({ input_ids: theirs.input_ids })) as { pooler_output: { data: Float32Array } };
      const embeds = await encoder.encodeTexts(TEXTS);
      rows(out.pooler_output.data, 3).forEach((v, i) => expect(cosine(embeds[i] as Float32Array, v)).toBeGreaterThan(1 - 1e-6));
    } finally {
      await model.dispose();
    }
  });

  it('gives the same pixel values and image embeddings for images already at 32×32', async () => {
    const raw = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + (i >> 5) * 11) % 256;
    const bytes = await sharp(raw, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toBuffer();
    const image = { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    const processor = await tf.AutoProcessor.from_pretrained('tiny');
    const inputs = (await processor(await tf.RawImage.fromBlob(new Blob([new Uint8Array(bytes)])))) as { pixel_values: { data: Float32Array; dims: number[] } };
    expect(inputs.pixel_values.dims).toEqual([1, 3, 32, 32]);
    const pre = siglipPreprocessor(JSON.parse(await fs.readFile(path.join(tmp, 'tiny', 'preprocessor_config.json'), 'utf8')));
    const ours = (await pre.preprocess(image)).data;
    const diff = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - (inputs.pixel_values.data[i] ?? 0))), 0);
    expect(diff).toBeLessThan(1e-6);
    const model = await tf.SiglipVisionModel.from_pretrained('tiny', { dtype: 'fp32', session_options: { intraOpNumThreads: 1 } });
    try {
      const out = (await model(inputs)) as { pooler_output: { data: Float32Array } };
      const [embed] = await encoder.encodeImages([image]);
      expect(cosine(embed as Float32Array, out.pooler_output.data)).toBeGreaterThan(1 - 1e-6);
    } finally {
      await model.dispose();
    }
  });
});
