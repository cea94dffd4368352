import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { parseSiglipPreprocessorConfig, siglipPreprocessor } from '../../src/models/siglip/siglip-preprocessor.js';
import type { ImageInput } from '../../src/models/capabilities.js';

const input = (bytes: Buffer): ImageInput => ({ bytes, sha256: createHash('sha256').update(bytes).digest('hex') });

async function png(width: number, height: number, f: (x: number, y: number, c: number) => number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = f(x, y, c);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** SiglipImageProcessor's value for a byte: rescale by 1/255, then (v - 0.5) / 0.5. */
const expected = (value: number) => (value / 255 - 0.5) / 0.5;

/** The tiny SigLIP's preprocessor_config.json. */
const TINY = {
  image_processor_type: 'SiglipImageProcessor',
  do_resize: true,
  size: { height: 32, width: 32 },
  resample: 3,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
};

describe('parseSiglipPreprocessorConfig', () => {
  it('resizes to the exact size, never crops, and defaults to bicubic with mean = std = 0.5', () => {
    expect(parseSiglipPreprocessorConfig(TINY)).toEqual({
      resize: { kind: 'exact', height: 32, width: 32 },
      kernel: 'cubic',
      crop: null,
      rescaleFactor: 1 / 255,
      normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    });
    expect(parseSiglipPreprocessorConfig({})).toMatchObject({
      resize: { kind: 'exact', height: 224, width: 224 },
      kernel: 'cubic',
      crop: null,
      normalize: { mean: [0.5, 0.5, 0.5] },
    });
    expect(parseSiglipPreprocessorConfig({ ...TINY, resample: 2 }).kernel).toBe('linear'); // SigLIP2: bilinear
  });

  it('rejects what a fixed-resolution SigLIP cannot be, naming the file', () => {
    expect(() => parseSiglipPreprocessorConfig({ size: { shortest_edge: 224 } }, '/m/preprocessor_config.json')).toThrow(
      /^\/m\/preprocessor_config.json: size/,
    );
    expect(() => parseSiglipPreprocessorConfig({ resample: 5 })).toThrow(PerceiveError);
    expect(() => parseSiglipPreprocessorConfig({ do_resize: false })).toThrow('do_resize false');
  });
});

describe('siglipPreprocessor', () => {
  const pre = siglipPreprocessor(TINY);

  it('keeps a 32×32 image as is and normalises each byte exactly, channel first', async () => {
    const f = (x: number, y: number, c: number) => (x * 5 + y * 3 + c * 60) % 256;
    const out = await pre.preprocess(input(await png(32, 32, f)));
    expect([out.height, out.width]).toEqual([32, 32]);
    for (const [c, y, x] of [
      [0, 0, 0],
      [0, 5, 7],
      [1, 31, 31],
      [2, 10, 20],
      [2, 0, 31],
    ] as const) {
      expect(Math.abs((out.data[c * 1024 + y * 32 + x] as number) - expected(f(x, y, c))), `c${c} y${y} x${x}`).toBeLessThan(1e-6);
    }
    expect(out.data[0]).toBe(Math.fround(Math.fround(Math.fround(f(0, 0, 0) / 255) - 0.5) / 0.5));
  });

  it('squashes a 96×32 image to 32×32 without a crop: all three stripes stay', async () => {
    const stripe = (x: number) => (x < 32 ? 10 : x < 64 ? 100 : 200);
    const out = await pre.preprocess(input(await png(96, 32, (x) => stripe(x))));
    expect([out.height, out.width]).toEqual([32, 32]);
    // Output column x covers source columns 3x..3x+2: x ≤ 9 is the first stripe, 12–19 the second, 22+ the third.
    for (const c of [0, 1, 2]) {
      expect(out.data[c * 1024 + 16 * 32 + 2] as number).toBeCloseTo(expected(10), 5);
      expect(out.data[c * 1024 + 16 * 32 + 16] as number).toBeCloseTo(expected(100), 5);
      expect(out.data[c * 1024 + 16 * 32 + 29] as number).toBeCloseTo(expected(200), 5);
    }
  });

  it('gives -1 for black and 1 for white', async () => {
    const out = await pre.preprocess(input(await png(40, 20, (x) => (x < 20 ? 0 : 255))));
    expect(out.data[0]).toBe(-1);
    expect(out.data[31]).toBe(1);
  });
});
