import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CLIP_MEAN_RGB, padToSquare } from '../../src/models/llama/pad-to-square.js';

async function pixel(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

describe("LLaVA's expand2square", () => {
  it('uses int(mean*255) of the CLIP mean = (122, 116, 104)', () => {
    expect(CLIP_MEAN_RGB).toEqual([122, 116, 104]);
  });

  it('pastes a wide image at y = (w - h) // 2 on a mean-coloured square', async () => {
    const red = await sharp({ create: { width: 6, height: 3, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    const out = await padToSquare(red);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([6, 6]);
    // (6 - 3) // 2 = 1: row 0 is background, rows 1..3 the image, rows 4..5 background.
    expect(await pixel(out, 0, 0)).toEqual([122, 116, 104]);
    expect(await pixel(out, 0, 1)).toEqual([255, 0, 0]);
    expect(await pixel(out, 5, 3)).toEqual([255, 0, 0]);
    expect(await pixel(out, 0, 4)).toEqual([122, 116, 104]);
  });

  it('pastes a tall image at x = (h - w) // 2 and leaves squares untouched', async () => {
    const tall = await sharp({ create: { width: 1, height: 4, channels: 3, background: { r: 0, g: 0, b: 255 } } })
      .png()
      .toBuffer();
    const out = await padToSquare(tall);
    expect(await pixel(out, 1, 0)).toEqual([0, 0, 255]);
    expect(await pixel(out, 0, 0)).toEqual([122, 116, 104]);
    expect(await pixel(out, 2, 0)).toEqual([122, 116, 104]);
    const square = await sharp({ create: { width: 3, height: 3, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toBuffer();
    expect((await padToSquare(square)).equals(square)).toBe(true);
  });
});
