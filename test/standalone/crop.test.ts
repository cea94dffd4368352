import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cropImage, pythonRound } from '../../src/core/crop.js';
import { sha256Hex } from '../../src/core/image.js';

async function image(width: number, height: number) {
  // pixel (x, y) = (x*10, y*10, 7)
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set([x * 10, y * 10, 7], (y * width + x) * 3);
  const bytes = await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return { path: '/img.png', bytes, sha256: sha256Hex(bytes), width, height };
}

async function pixels(bytes: Buffer) {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return {
    data,
    width: info.width,
    height: info.height,
    at: (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)],
  };
}

describe("PIL's Image.crop as ARO applies it", () => {
  it('rounds half to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, -1.5].map(pythonRound)).toEqual([0, 2, 2, 4, 2, 3, -2]);
  });

  it('cuts the box (x, y, x + w, y + h)', async () => {
    const out = await cropImage(await image(8, 6), { x: 2, y: 1, w: 3, h: 2 });
    const p = await pixels(out.bytes);
    expect([p.width, p.height]).toEqual([3, 2]);
    expect(p.at(0, 0)).toEqual([20, 10, 7]);
    expect(p.at(2, 1)).toEqual([40, 20, 7]);
  });

  it('fills the parts of the box outside the image with black', async () => {
    const out = await cropImage(await image(4, 4), { x: -1, y: 2, w: 3, h: 3 });
    const p = await pixels(out.bytes);
    expect([p.width, p.height]).toEqual([3, 3]);
    expect(p.at(0, 0)).toEqual([0, 0, 0]); // x = -1
    expect(p.at(1, 0)).toEqual([0, 20, 7]); // x = 0, y = 2
    expect(p.at(1, 2)).toEqual([0, 0, 0]); // y = 4 (outside)
  });
});
