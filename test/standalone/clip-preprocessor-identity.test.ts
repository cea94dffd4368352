/**
 * Pins ClipPreprocessor's output tensors: the sha256 of the float32 tensor of each fixture image
 * (test/standalone/fixtures/clip-images: JPEG, large JPEGs that libvips could shrink on load,
 * EXIF-rotated, grey, CMYK, a P3 ICC profile, PNG with alpha, palette and 16-bit PNG, WebP, an
 * image smaller than the crop) under three configurations: CLIP's (shortest edge 224, bicubic,
 * crop 224), SigLIP2's (exact 224×224, bilinear) and the tiny CLIP's (32, a 100× shrink).
 * The digests were computed with the two-pipeline preprocessing (decode to raw, then resize) that
 * came before the faster paths, so a change to the decode or resize path must keep every bit.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageInput } from '../../src/models/capabilities.js';
import { ClipPreprocessor, parsePreprocessorConfig } from '../../src/models/clip/clip-preprocessor.js';
import { siglipPreprocessor } from '../../src/models/siglip/siglip-preprocessor.js';

const DIR = path.join(import.meta.dirname, 'fixtures', 'clip-images');

const CONFIGS: Record<string, ClipPreprocessor> = {
  'clip-224': new ClipPreprocessor(parsePreprocessorConfig({})),
  'siglip2-224': siglipPreprocessor({ size: { height: 224, width: 224 }, resample: 2 }),
  'tiny-32': new ClipPreprocessor(parsePreprocessorConfig({ size: { shortest_edge: 32 }, crop_size: 32 })),
};

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const tensorSha = (data: Float32Array) => sha(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));

function image(name: string): ImageInput & { path: string } {
  const file = path.join(DIR, name);
  const bytes = fs.readFileSync(file);
  return { bytes, sha256: sha(bytes), path: file };
}

/** file → config → sha256 of the float32 tensor (its first 16 hex digits). */
const PINNED: Record<string, Record<string, string>> = {
  'alpha-200x150.png': { 'clip-224': '1d36588e770fc78d', 'siglip2-224': 'a7827210bc421994', 'tiny-32': 'c12ffe6d81bf3ebf' },
  'cmyk-320x240.jpg': { 'clip-224': '032a40dc731e5f68', 'siglip2-224': '74b1fb4495a4eccf', 'tiny-32': '3f09470baebb056e' },
  'deep16-260x200.png': { 'clip-224': 'b3807a11a2c3b67c', 'siglip2-224': 'a1e55d63803ed3b3', 'tiny-32': 'e2869e2774cfbbbd' },
  'exif-6-500x375.jpg': { 'clip-224': '6dd70898e2a02250', 'siglip2-224': '833a675b52726048', 'tiny-32': 'd2e509df814d9149' },
  'grey-400x300.jpg': { 'clip-224': '17b5869c3c5c48a1', 'siglip2-224': 'cdbcccf7f2e30fc4', 'tiny-32': '54e31914b5e6e90e' },
  'huge-3600x3000.jpg': { 'clip-224': '1aca227a1483e6e2', 'siglip2-224': '18665fb9ccdde4b5', 'tiny-32': 'b693b286bfeb3ea6' },
  'large-2400x1800.jpg': { 'clip-224': '3ca9283f44945d01', 'siglip2-224': '26136b697d52cd9b', 'tiny-32': '00b5ccc187a9a694' },
  'p3-icc-480x360.jpg': { 'clip-224': '8434dc1afae3f7e7', 'siglip2-224': '51586c96c19480a8', 'tiny-32': '97ef9f3adc5e0a1a' },
  'palette-256x256.png': { 'clip-224': '1859c4d6064420c8', 'siglip2-224': '7cb841c87c0fbb95', 'tiny-32': 'd826530b876b81ec' },
  'photo-500x400.webp': { 'clip-224': '6f6a0101c53d4823', 'siglip2-224': '78324497b815adc6', 'tiny-32': '5d96863858ef6263' },
  'photo-640x480.jpg': { 'clip-224': 'cb15f4be4f597a6c', 'siglip2-224': 'fac9f371f2a973c1', 'tiny-32': '5d3a8163542a2458' },
  'portrait-317x529.jpg': { 'clip-224': '45cbcc6f976e9249', 'siglip2-224': '2c9d9c0e645cd56a', 'tiny-32': '21ef839266ab369f' },
  'small-100x60.png': { 'clip-224': '756c43bb14994c63', 'siglip2-224': '01c0567da483c250', 'tiny-32': '537bf8daab100237' },
};

describe('ClipPreprocessor output pinned bit for bit', () => {
  for (const [name, byConfig] of Object.entries(PINNED)) {
    for (const [config, digest] of Object.entries(byConfig)) {
      it(`${name} under ${config}`, async () => {
        const pre = CONFIGS[config] as ClipPreprocessor;
        const out = await pre.preprocess(image(name));
        expect(tensorSha(out.data).slice(0, 16)).toBe(digest);
        // The batch path writes the same values into its slot, and nothing outside it.
        const plane = out.data.length;
        const batch = new Float32Array(3 * plane).fill(7);
        await pre.preprocessInto(image(name), batch, plane, { height: out.height, width: out.width });
        expect(tensorSha(batch.subarray(plane, 2 * plane)).slice(0, 16)).toBe(digest);
        expect(batch[plane - 1]).toBe(7);
        expect(batch[2 * plane]).toBe(7);
      });
    }
  }

  it('covers every fixture image', () => {
    expect(Object.keys(PINNED).sort()).toEqual(
      fs
        .readdirSync(DIR)
        .filter((f) => !f.endsWith('.md'))
        .sort(),
    );
  });
});
