/**
 * The CLIP benches' images: seeded 640×480 JPEGs (quality 90), smooth colour fields with noise, so
 * they decode like photos, not like flat colour. clip.ts and clip-preprocess.ts use the same ones.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { Prng } from '../../src/fixtures/prng.js';
import type { ImageInput } from '../../src/models/capabilities.js';

export async function seededJpegs(n: number): Promise<ImageInput[]> {
  const rng = new Prng(1234);
  const w = 640;
  const h = 480;
  const out: ImageInput[] = [];
  for (let i = 0; i < n; i++) {
    const raw = Buffer.alloc(w * h * 3);
    const base = [rng.int(256), rng.int(256), rng.int(256)];
    const fx = 1 + rng.int(8);
    const fy = 1 + rng.int(8);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        const wave = 60 * Math.sin((x * fx) / 50) * Math.cos((y * fy) / 40);
        for (let c = 0; c < 3; c++) raw[o + c] = Math.max(0, Math.min(255, (base[c] ?? 0) + (wave * (c + 1)) / 2 + rng.int(24)));
      }
    }
    const bytes = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    out.push({ bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  return out;
}
