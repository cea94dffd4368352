/**
 * The CLIP runner on real onnxruntime-node with the generated tiny CLIP (one thread, as on 2-core CI).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { ClipEncoder, cosine } from '../../src/models/clip/clip-encoder.js';
import { ClipPreprocessor, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, parsePreprocessorConfig } from '../../src/models/clip/clip-preprocessor.js';
import type { ImageInput } from '../../src/models/capabilities.js';

let tmp: string;
let dir: string;
let combinedDir: string;
let one: ClipEncoder; // batch size 1
let eight: ClipEncoder; // batch size 8
let images: ImageInput[];

const input = (bytes: Buffer): ImageInput => ({ bytes, sha256: createHash('sha256').update(bytes).digest('hex') });

/** An RGB image whose pixel (x, y, channel c) is f(x, y, c), encoded as PNG (lossless). */
async function png(width: number, height: number, f: (x: number, y: number, c: number) => number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = f(x, y, c);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** HF's value for a pixel: rescale by 1/255, then (v - mean) / std. */
const expected = (value: number, c: number) => (value / 255 - (OPENAI_CLIP_MEAN[c] ?? 0)) / (OPENAI_CLIP_STD[c] ?? 1);

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-encoder-'));
  dir = (await writeTinyClip(path.join(tmp, 'tiny'), { seed: 7 })).dir;
  combinedDir = (await writeTinyClip(path.join(tmp, 'combined'), { seed: 7, layout: 'combined' })).dir;
  one = await ClipEncoder.load(dir, { threads: 1, batchSize: 1 });
  eight = await ClipEncoder.load(dir, { threads: 1, batchSize: 8 });
  // 11 images: more than one batch of 8, landscape, portrait and square, PNG and JPEG.
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

describe('ClipEncoder', () => {
  it('gives bit-identical image embeddings at batch 1 and batch 8', async () => {
    const a = await one.encodeImages(images);
    const b = await eight.encodeImages(images);
    expect(a).toHaveLength(11);
    expect(b).toHaveLength(11);
    for (let i = 0; i < a.length; i++) expect(Array.from(b[i] as Float32Array)).toEqual(Array.from(a[i] as Float32Array));
  });

  it('gives bit-identical text embeddings at batch 1 and batch 8', async () => {
    const texts = Array.from({ length: 11 }, (_, i) => `a ${['mug', 'dog', 'cat', 'book'][i % 4]} ${'on the left of '.repeat(i)}a plate`);
    const a = await one.encodeTexts(texts);
    const b = await eight.encodeTexts(texts);
    for (let i = 0; i < a.length; i++) expect(Array.from(b[i] as Float32Array)).toEqual(Array.from(a[i] as Float32Array));
  });

  it('returns unit-norm embeddings of the projection size', async () => {
    const [image] = await eight.encodeImages(images.slice(0, 1));
    const [text] = await eight.encodeTexts(['a photo of a dog']);
    for (const v of [image, text]) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(16);
      expect(Math.abs(norm(v as Float32Array) - 1)).toBeLessThan(1e-6);
    }
  });

  it('gives the same text embedding padded in a batch as alone', async () => {
    const [alone] = await eight.encodeTexts(['a dog']); // [1, 4], no padding
    const padded = await eight.encodeTexts(['a dog', 'a mug to the left of a plate under a table']); // padded with EOS to 13
    expect(Array.from(padded[0] as Float32Array)).toEqual(Array.from(alone as Float32Array));
  });

  it('tells different images and texts apart, and repeats itself', async () => {
    const [a, b, a2] = await eight.encodeImages([images[0] as ImageInput, images[1] as ImageInput, images[0] as ImageInput]);
    expect(Array.from(a2 as Float32Array)).toEqual(Array.from(a as Float32Array));
    expect(Array.from(b as Float32Array)).not.toEqual(Array.from(a as Float32Array));
    expect(cosine(a as Float32Array, b as Float32Array)).toBeLessThan(0.9999);
    const [left, right] = await eight.encodeTexts(['a mug to the left of a plate', 'a mug to the right of a plate']);
    expect(cosine(left as Float32Array, right as Float32Array)).toBeLessThan(0.9999);
  });

  it('matches the combined onnx/model.onnx export of the same weights', async () => {
    const combined = await ClipEncoder.load(combinedDir, { threads: 1 });
    try {
      expect(combined.layout).toBe('combined');
      const texts = ['a dog', 'a mug to the left of a plate'];
      const [s, c] = [await eight.encodeTexts(texts), await combined.encodeTexts(texts)];
      const [si, ci] = [await eight.encodeImages(images.slice(0, 3)), await combined.encodeImages(images.slice(0, 3))];
      for (const [x, y] of [...s.map((v, i) => [v, c[i]]), ...si.map((v, i) => [v, ci[i]])] as Array<[Float32Array, Float32Array]>) {
        for (let j = 0; j < x.length; j++) expect(Math.abs((x[j] ?? 0) - (y[j] ?? 0))).toBeLessThan(1e-6);
      }
      expect(combined.modelHash).not.toBe(eight.modelHash);
    } finally {
      await combined.close();
    }
  });

  it('hashes the model files', async () => {
    expect(one.modelHash).toMatch(/^[0-9a-f]{64}$/);
    expect(eight.modelHash).toBe(one.modelHash);
    const other = (await writeTinyClip(path.join(tmp, 'seed8'), { seed: 8 })).dir;
    const encoder = await ClipEncoder.load(other, { threads: 1 });
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
    const junk = await eight.encodeImages([input(Buffer.from('not an image at all'))]).catch((e: unknown) => e);
    expect((junk as PerceiveError).code).toBe('bad-image');
  });

  it('returns [] for no inputs', async () => {
    expect(await eight.encodeImages([])).toEqual([]);
    expect(await eight.encodeTexts([])).toEqual([]);
  });

  it('names the missing file when the folder is incomplete', async () => {
    const broken = path.join(tmp, 'broken');
    await fs.cp(dir, broken, { recursive: true });
    await fs.rm(path.join(broken, 'onnx', 'vision_model.onnx'));
    const noVision = await ClipEncoder.load(broken).catch((e: unknown) => e);
    expect(noVision).toBeInstanceOf(PerceiveError);
    expect((noVision as PerceiveError).code).toBe('bad-model');
    expect((noVision as PerceiveError).message).toContain('onnx/vision_model.onnx');
    await fs.rm(path.join(broken, 'config.json'));
    const noConfig = (await ClipEncoder.load(broken).catch((e: unknown) => e)) as PerceiveError;
    expect(noConfig.message).toContain('missing config.json');
    expect(noConfig.message).toContain('preprocessor_config.json, tokenizer.json');
  });
});

describe('ClipPreprocessor (the tiny CLIP’s preprocessor_config.json: shortest edge 32, crop 32)', () => {
  let pre: ClipPreprocessor;
  beforeAll(async () => {
    pre = await ClipPreprocessor.load(dir);
  });

  it('center-crops a 48×32 image without resizing, at HF’s offsets, and normalises exactly', async () => {
    const f = (x: number, y: number, c: number) => (x * 5 + y * 3 + c * 60) % 256;
    const out = await pre.preprocess(input(await png(48, 32, f)));
    expect([out.height, out.width]).toEqual([32, 32]);
    expect(out.data).toHaveLength(3 * 32 * 32);
    // Short side is already 32 → no resize; crop left = (48 - 32) // 2 = 8, top = 0.
    for (const [c, y, x] of [
      [0, 0, 0],
      [0, 5, 7],
      [1, 31, 31],
      [2, 10, 20],
      [2, 0, 31],
    ] as const) {
      const got = out.data[c * 1024 + y * 32 + x] as number;
      expect(Math.abs(got - expected(f(x + 8, y, c), c)), `c${c} y${y} x${x}`).toBeLessThan(1e-6);
    }
    // Channel-first layout: element [c=1, y=0, x=0] is green of source (8, 0).
    expect(out.data[1024]).toBeCloseTo(expected(f(8, 0, 1), 1), 6);
  });

  it('uses floor offsets for an odd margin (33 wide → left 0) and a tall image (32×35 → top 1)', async () => {
    const f = (x: number, y: number, c: number) => (x * 7 + y * 11 + c * 50) % 256;
    const wide = await pre.preprocess(input(await png(33, 32, f)));
    expect(wide.data[3] as number).toBeCloseTo(expected(f(3, 0, 0), 0), 6);
    const tall = await pre.preprocess(input(await png(32, 35, f)));
    expect(tall.data[2 * 1024 + 32 * 4 + 9] as number).toBeCloseTo(expected(f(9, 5, 2), 2), 6);
  });

  it('resizes the shortest edge to 32 (a flat colour stays that colour)', async () => {
    const out = await pre.preprocess(input(await png(96, 64, (_x, _y, c) => [10, 128, 250][c] as number)));
    expect([out.height, out.width]).toEqual([32, 32]);
    for (let c = 0; c < 3; c++) {
      for (const i of [0, 100, 1023]) expect(out.data[c * 1024 + i] as number).toBeCloseTo(expected([10, 128, 250][c] as number, c), 5);
    }
  });

  it('drops alpha as PIL convert("RGB") does, and expands grey to RGB', async () => {
    const rgba = await sharp(Buffer.from(Array.from({ length: 32 * 32 }, () => [200, 100, 50, 10]).flat()), {
      raw: { width: 32, height: 32, channels: 4 },
    })
      .png()
      .toBuffer();
    const a = await pre.preprocess(input(rgba));
    expect(a.data[0] as number).toBeCloseTo(expected(200, 0), 6);
    expect(a.data[1024] as number).toBeCloseTo(expected(100, 1), 6);
    const grey = await sharp(Buffer.alloc(32 * 32, 77), { raw: { width: 32, height: 32, channels: 1 } })
      .png()
      .toBuffer();
    const g = await pre.preprocess(input(grey));
    for (let c = 0; c < 3; c++) expect(g.data[c * 1024] as number).toBeCloseTo(expected(77, c), 6);
  });

  it('applies the EXIF orientation', async () => {
    const stored = await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const raw = new ClipPreprocessor(parsePreprocessorConfig({ do_resize: false, do_center_crop: false }));
    const out = await raw.preprocess(input(stored));
    expect([out.height, out.width]).toEqual([40, 20]);
  });

  it('pads with zero pixels when the crop is larger than the image (HF center_crop)', async () => {
    const p = new ClipPreprocessor(parsePreprocessorConfig({ do_resize: false, crop_size: 4 }));
    const out = await p.preprocess(input(await png(2, 2, () => 255)));
    expect([out.height, out.width]).toEqual([4, 4]);
    // top = left = (2 - 4) // 2 = -1: row 0 and column 0 are padding, rows/cols 1–2 the image.
    expect(out.data[0] as number).toBeCloseTo(expected(0, 0), 6);
    expect(out.data[1 * 4 + 1] as number).toBeCloseTo(expected(255, 0), 6);
    expect(out.data[2 * 4 + 2] as number).toBeCloseTo(expected(255, 0), 6);
    expect(out.data[3 * 4 + 3] as number).toBeCloseTo(expected(0, 0), 6);
  });

  it('reads older configs (int size and crop_size) and {height, width} sizes', () => {
    expect(parsePreprocessorConfig({ size: 224, crop_size: 224 })).toMatchObject({
      resize: { kind: 'shortest-edge', shortestEdge: 224 },
      crop: { height: 224, width: 224 },
      kernel: 'cubic',
    });
    expect(parsePreprocessorConfig({ size: { height: 336, width: 336 }, do_center_crop: false })).toMatchObject({
      resize: { kind: 'exact', height: 336, width: 336 },
      crop: null,
    });
    expect(() => parsePreprocessorConfig({ size: 'big' })).toThrow(PerceiveError);
  });

  it('rejects a corrupt image with PerceiveError bad-image naming it', async () => {
    const bytes = await png(40, 40, () => 9);
    const bad = { ...input(bytes.subarray(0, bytes.length - 30)), path: '/data/broken.png' };
    const error = await pre.preprocess(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PerceiveError);
    expect((error as PerceiveError).code).toBe('bad-image');
    expect((error as PerceiveError).message).toContain('/data/broken.png');
  });
});
