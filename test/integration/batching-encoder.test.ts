/**
 * A queue worker holds several CLIP bundles at once (one per slot); their encode calls must reach
 * onnxruntime as one batch, not one image at a time. Real tiny CLIP on onnxruntime-node.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { BatchingEncoder } from '../../src/models/clip/batching-encoder.js';
import { ClipEncoder } from '../../src/models/clip/clip-encoder.js';
import type { ContrastiveEncoder, ImageInput } from '../../src/models/capabilities.js';

let tmp: string;
let encoder: ClipEncoder;
let images: ImageInput[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-batching-'));
  encoder = await ClipEncoder.load((await writeTinyClip(path.join(tmp, 'clip'), { seed: 3 })).dir, { threads: 1, batchSize: 8 });
  images = [];
  for (let k = 0; k < 6; k++) {
    const bytes = await sharp({ create: { width: 40 + k, height: 30, channels: 3, background: { r: 20 * k, g: 100, b: 255 - 30 * k } } })
      .png()
      .toBuffer();
    images.push({ bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
});

afterAll(async () => {
  await encoder.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The real encoder, recording the size of every image batch it is given. */
function countingEncoder(): { counting: ContrastiveEncoder; batchSizes: number[] } {
  const batchSizes: number[] = [];
  const counting: ContrastiveEncoder = {
    modelHash: encoder.modelHash,
    encodeImages: (x) => {
      batchSizes.push(x.length);
      return encoder.encodeImages(x);
    },
    encodeTexts: (t) => encoder.encodeTexts(t),
    close: async () => {},
  };
  return { counting, batchSizes };
}

describe('BatchingEncoder', () => {
  it('turns concurrent one-image calls into one batch with the same embeddings', async () => {
    const { counting, batchSizes } = countingEncoder();
    const batching = new BatchingEncoder(counting, 8);
    const together = await Promise.all(images.map((i) => batching.encodeImages([i])));
    expect(batchSizes).toEqual([6]);
    const alone = await encoder.encodeImages(images);
    together.forEach((e, k) => {
      expect(e).toHaveLength(1);
      expect(Array.from(e[0]!).map((v) => v.toFixed(5))).toEqual(Array.from(alone[k]!).map((v) => v.toFixed(5)));
    });
    const texts = await Promise.all([batching.encodeTexts(['a dog', 'a cat']), batching.encodeTexts(['a mug'])]);
    expect(texts.map((t) => t.length)).toEqual([2, 1]);
  });

  it('requests that arrive while a batch runs go together in the next one', async () => {
    const { counting, batchSizes } = countingEncoder();
    const batching = new BatchingEncoder(counting, 8, 0);
    const first = batching.encodeImages([images[0]!]);
    await new Promise((r) => setTimeout(r, 5)); // the first batch (one image) is running
    const rest = images.slice(1).map((i) => batching.encodeImages([i]));
    await Promise.all([first, ...rest]);
    expect(batchSizes).toEqual([1, 5]);
  });

  it('a bad input in a batch fails only its own call', async () => {
    const batching = new BatchingEncoder(encoder, 8);
    const bad = { bytes: Buffer.from('not an image'), sha256: 'x'.repeat(64) };
    const settled = await Promise.allSettled([batching.encodeImages([images[0]!]), batching.encodeImages([bad]), batching.encodeImages([images[1]!])]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
