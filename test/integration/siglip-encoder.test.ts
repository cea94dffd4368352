/**
 * The SigLIP encoder on real onnxruntime-node with the generated tiny SigLIP (one thread, as on 2-core CI).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { TINY_SIGLIP_LOGITS, writeTinySiglip } from '../../src/fixtures/tiny-siglip.js';
import { readEnvironment } from '../../src/core/environment.js';
import { hostTools } from '../../src/models/host-tools.js';
import { modelKind } from '../../src/models/registry.js';
import { SiglipModelSchema } from '../../src/models/siglip/siglip-model-spec.js';
import { SiglipEncoder } from '../../src/models/siglip/siglip-encoder.js';
import { siglipPreprocessor } from '../../src/models/siglip/siglip-preprocessor.js';
import { siglipLogit } from '../../src/models/siglip/siglip-score.js';
import { cosine } from '../../src/models/clip/clip-encoder.js';
import type { ImageInput } from '../../src/models/capabilities.js';

let tmp: string;
let dir: string;
let one: SiglipEncoder; // batch size 1
let eight: SiglipEncoder; // batch size 8
let images: ImageInput[];

const input = (bytes: Buffer): ImageInput => ({ bytes, sha256: createHash('sha256').update(bytes).digest('hex') });

async function png(width: number, height: number, f: (x: number, y: number, c: number) => number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = f(x, y, c);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] ?? 0))), 0);

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'siglip-encoder-'));
  dir = (await writeTinySiglip(path.join(tmp, 'tiny'), { seed: 7 })).dir;
  one = await SiglipEncoder.load(dir, { threads: 1, batchSize: 1 });
  eight = await SiglipEncoder.load(dir, { threads: 1, batchSize: 8 });
  images = [];
  for (let k = 0; k < 11; k++) {
    const w = 32 + ((k * 13) % 40);
    const h = 32 + ((k * 7) % 30);
    const bytes = await png(w, h, (x, y, c) => (x * (k + 3) + y * (2 * k + 1) + c * 70 + k * 17) % 256);
    images.push(input(k % 3 === 2 ? await sharp(bytes).jpeg({ quality: 90 }).toBuffer() : bytes));
  }
});

afterAll(async () => {
  await one?.close();
  await eight?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('SiglipEncoder', () => {
  it('encodes with the towers and reads the logit scale and bias from model.onnx', () => {
    expect(eight.layout).toBe('separate');
    expect(eight.imageSize).toBe(32);
    expect(eight.logitParams).toEqual({
      scale: Math.fround(TINY_SIGLIP_LOGITS.scale),
      bias: TINY_SIGLIP_LOGITS.bias,
      source: 'onnx/model.onnx (initializers logit_scale, logit_bias)',
    });
  });

  it('gives bit-identical image embeddings at batch 1 and batch 8', async () => {
    const a = await one.encodeImages(images);
    const b = await eight.encodeImages(images);
    expect(a).toHaveLength(11);
    for (let i = 0; i < a.length; i++) expect(Array.from(b[i] as Float32Array)).toEqual(Array.from(a[i] as Float32Array));
  });

  it('gives bit-identical text embeddings at batch 1 and batch 8', async () => {
    const texts = Array.from({ length: 11 }, (_, i) => `a ${['mug', 'dog', 'cat', 'book'][i % 4]} ${'on the left of '.repeat(i)}a plate`);
    const a = await one.encodeTexts(texts);
    const b = await eight.encodeTexts(texts);
    for (let i = 0; i < a.length; i++) expect(Array.from(b[i] as Float32Array)).toEqual(Array.from(a[i] as Float32Array));
  });

  it('returns unit-norm embeddings of the hidden size', async () => {
    const [image] = await eight.encodeImages(images.slice(0, 1));
    const [text] = await eight.encodeTexts(['a photo of a dog']);
    for (const v of [image, text]) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(32);
      expect(Math.abs(norm(v as Float32Array) - 1)).toBeLessThan(1e-6);
    }
  });

  it('pads to 64 whatever the batch: a text alone equals it beside a long one; case and punctuation do not matter', async () => {
    const [alone] = await eight.encodeTexts(['a dog']);
    const padded = await eight.encodeTexts(['a dog', 'a mug to the left of a plate under a table']);
    expect(Array.from(padded[0] as Float32Array)).toEqual(Array.from(alone as Float32Array));
    const [shouted] = await eight.encodeTexts(['A DOG.']);
    expect(Array.from(shouted as Float32Array)).toEqual(Array.from(alone as Float32Array));
  });

  it('tells different images and texts apart, and repeats itself', async () => {
    const [a, b, a2] = await eight.encodeImages([images[0] as ImageInput, images[1] as ImageInput, images[0] as ImageInput]);
    expect(Array.from(a2 as Float32Array)).toEqual(Array.from(a as Float32Array));
    expect(cosine(a as Float32Array, b as Float32Array)).toBeLessThan(0.9999);
    const [left, right] = await eight.encodeTexts(['a mug to the left of a plate', 'a mug to the right of a plate']);
    expect(cosine(left as Float32Array, right as Float32Array)).toBeLessThan(0.9999);
  });

  it('scores exactly as the export’s own SiglipModel logits: exp(t)·cos + b, sigmoid beside it', async () => {
    const texts = ['a dog', 'a mug to the left of a plate', 'a red cup'];
    const [t, v] = [await eight.encodeTexts(texts), await eight.encodeImages(images.slice(0, 2))];
    // The combined graph fed the same ids and pixels (the tokenizer's and preprocessor's).
    const session = await ort.InferenceSession.create(path.join(dir, 'onnx/model.onnx'), { intraOpNumThreads: 1 });
    try {
      const tokens = eight.tokenizer.encodeBatch(texts);
      const preprocessor = siglipPreprocessor(JSON.parse(await fs.readFile(path.join(dir, 'preprocessor_config.json'), 'utf8')));
      const pre = await Promise.all(images.slice(0, 2).map(async (image) => (await preprocessor.preprocess(image)).data));
      const pixels = new Float32Array(2 * 3 * 32 * 32);
      pre.forEach((p, i) => pixels.set(p, i * p.length));
      const out = await session.run({
        input_ids: new ort.Tensor('int64', tokens.inputIds, tokens.dims),
        pixel_values: new ort.Tensor('float32', pixels, [2, 3, 32, 32]),
      });
      const logits = out.logits_per_text?.data as Float32Array;
      const params = eight.logitParams!;
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 2; j++) {
          const cos = cosine(t[i] as Float32Array, v[j] as Float32Array);
          expect(Math.abs(siglipLogit(cos, params) - (logits[i * 2 + j] as number)), `text ${i} image ${j}`).toBeLessThan(1e-5);
          expect(eight.probability(cos)).toBeCloseTo(1 / (1 + Math.exp(-(logits[i * 2 + j] as number))), 6);
        }
      }
    } finally {
      await session.release();
    }
  });

  it('matches the combined onnx/model.onnx alone (embeddings within 1e-6, folded scale read back)', async () => {
    const combinedDir = (await writeTinySiglip(path.join(tmp, 'combined'), { seed: 7, layout: 'combined', foldLogitScale: true })).dir;
    const combined = await SiglipEncoder.load(combinedDir, { threads: 1 });
    try {
      expect(combined.layout).toBe('combined');
      expect(combined.logitParams?.scale).toBeCloseTo(TINY_SIGLIP_LOGITS.scale, 6);
      const texts = ['a dog', 'a mug to the left of a plate'];
      const [s, c] = [await eight.encodeTexts(texts), await combined.encodeTexts(texts)];
      const [si, ci] = [await eight.encodeImages(images.slice(0, 3)), await combined.encodeImages(images.slice(0, 3))];
      for (const [x, y] of [...s.map((v, i) => [v, c[i]]), ...si.map((v, i) => [v, ci[i]])] as Array<[Float32Array, Float32Array]>) {
        expect(maxDiff(x, y)).toBeLessThan(1e-6);
      }
      expect(combined.modelHash).not.toBe(eight.modelHash);
    } finally {
      await combined.close();
    }
  });

  it('has no sigmoid score for towers alone, unless config.json carries logit_scale and logit_bias', async () => {
    const towers = (await writeTinySiglip(path.join(tmp, 'towers'), { seed: 7, layout: 'separate' })).dir;
    const bare = await SiglipEncoder.load(towers, { threads: 1 });
    expect(bare.logitParams).toBeNull();
    expect(bare.probability(0.3)).toBeNull();
    await bare.close();
    const config = JSON.parse(await fs.readFile(path.join(towers, 'config.json'), 'utf8'));
    await fs.writeFile(path.join(towers, 'config.json'), JSON.stringify({ ...config, logit_scale: 4.7, logit_bias: -16.5 }));
    const withConfig = await SiglipEncoder.load(towers, { threads: 1 });
    expect(withConfig.logitParams).toEqual({ scale: 4.7, bias: -16.5, source: 'config.json (logit_scale, logit_bias)' });
    await withConfig.close();
  });

  it('hashes the model files, tokenizer_config.json and model.onnx included', async () => {
    expect(one.modelHash).toMatch(/^[0-9a-f]{64}$/);
    expect(eight.modelHash).toBe(one.modelHash);
    const other = (await writeTinySiglip(path.join(tmp, 'seed8'), { seed: 8 })).dir;
    const encoder = await SiglipEncoder.load(other, { threads: 1 });
    expect(encoder.modelHash).not.toBe(one.modelHash);
    await encoder.close();
  });

  it('rejects a corrupt image with PerceiveError bad-image', async () => {
    const good = images[0] as ImageInput;
    const truncated = input(good.bytes.subarray(0, 60));
    const error = await eight.encodeImages([good, truncated]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PerceiveError);
    expect((error as PerceiveError).code).toBe('bad-image');
    expect((error as PerceiveError).message).toContain(truncated.sha256.slice(0, 16));
  });

  it('returns [] for no inputs', async () => {
    expect(await eight.encodeImages([])).toEqual([]);
    expect(await eight.encodeTexts([])).toEqual([]);
  });

  it('names what is wrong with a folder', async () => {
    const broken = path.join(tmp, 'broken');
    await fs.cp(dir, broken, { recursive: true });
    await fs.rm(path.join(broken, 'onnx', 'vision_model.onnx'));
    await fs.rm(path.join(broken, 'onnx', 'model.onnx'));
    const noVision = (await SiglipEncoder.load(broken).catch((e: unknown) => e)) as PerceiveError;
    expect(noVision).toBeInstanceOf(PerceiveError);
    expect(noVision.code).toBe('bad-model');
    expect(noVision.message).toContain('missing onnx/vision_model.onnx');
    const config = JSON.parse(await fs.readFile(path.join(broken, 'config.json'), 'utf8'));
    await fs.writeFile(path.join(broken, 'config.json'), JSON.stringify({ ...config, model_type: 'siglip2' }));
    const naflex = (await SiglipEncoder.load(broken).catch((e: unknown) => e)) as PerceiveError;
    expect(naflex.message).toContain('model_type is siglip2, expected siglip (SigLIP2 NaFlex');
    await fs.rm(path.join(broken, 'config.json'));
    expect(((await SiglipEncoder.load(broken).catch((e: unknown) => e)) as PerceiveError).message).toContain('missing config.json');
  });
});

describe('siglip model kind: schema and start through the registry', () => {
  it('parses {kind: siglip, path, threads?, batch_size} and starts the encoder it names', async () => {
    const spec = SiglipModelSchema.parse({ kind: 'siglip', path: dir, threads: 1 });
    expect(spec.batch_size).toBe(8);
    expect(SiglipModelSchema.safeParse({ kind: 'siglip', path: dir, batch: 8 }).success).toBe(false);
    const kind = modelKind('siglip');
    expect(kind.provides).toBe('contrastive');
    expect(await kind.hash(spec, readEnvironment())).toBe(eight.modelHash);
    const started = await kind.start('siglip', spec, { env: readEnvironment(), tools: hostTools({}), logDir: dir });
    try {
      const encoder = started.capabilities as import('../../src/models/capabilities.js').ContrastiveEncoder;
      expect(encoder.modelHash).toBe(eight.modelHash);
      const [v] = await encoder.encodeTexts(['a dog']);
      expect(Array.from(v as Float32Array)).toEqual(Array.from((await eight.encodeTexts(['a dog']))[0] as Float32Array));
      expect(encoder.probability?.(0.5)).toBe(eight.probability(0.5));
    } finally {
      await started.close();
    }
  });
});
