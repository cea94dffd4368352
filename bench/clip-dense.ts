/**
 * clip.dense's cost beside clip's: per-image wall time of the dense encoder (vision tower with
 * last_hidden_state, post_layernorm + visual_projection on every patch as an onnxruntime graph,
 * normalisation, the check against image_embeds) against ClipEncoder.encodeImages (the pooled
 * image_embeds `clip` reads), on a real-width shape model.
 *
 *   npx tsx bench/clip-dense.ts [--shape clip-vit-b-32|clip-vit-l-14-336] [--layers K] [--images N] [--batch B] [--repeats R] [--small]
 *
 * `--small` (checks that it runs): ViT-B/32, 4 images, one round.
 *
 * The shape folder is generated into .fixtures/shape/<shape>-k<K> when missing
 * (bench/support/shape-model.ts, as for bench/clip.ts). Seeded 320×240 PNGs. A warm-up run, then R interleaved rounds; the best run counts.
 * The last line is the ratio dense / pooled per image.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Prng } from '../src/fixtures/prng.js';
import type { ImageInput } from '../src/models/capabilities.js';
import { ClipEncoder } from '../src/models/clip/clip-encoder.js';
import { ensureShapeModel, positiveIntOption, shapeOption } from './support/shape-model.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'clip-vit-l-14-336' },
    layers: { type: 'string', default: '2' },
    images: { type: 'string', default: '16' },
    batch: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '3' },
    // Only checks that it still runs: ViT-B/32, 4 images, one round.
    small: { type: 'boolean', default: false },
  },
});
if (values.small) {
  values.shape = 'clip-vit-b-32';
  values.images = '4';
  values.repeats = '1';
}
const shape = shapeOption(values.shape);
const int = positiveIntOption;
const layers = int('layers', values.layers);
const count = int('images', values.images);
const repeats = int('repeats', values.repeats);
const modelDir = await ensureShapeModel(shape, layers);

const rng = new Prng(99);
const images: ImageInput[] = [];
for (let k = 0; k < count; k++) {
  const raw = Buffer.alloc(320 * 240 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = rng.int(256);
  const bytes = await sharp(raw, { raw: { width: 320, height: 240, channels: 3 } })
    .png()
    .toBuffer();
  images.push({ bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
}

const encoder = await ClipEncoder.load(modelDir, { batchSize: int('batch', values.batch) });
const dense = encoder.dense;
if (!dense) throw new Error(`${modelDir} gives no dense encoder`);
const measures = [
  { label: 'pooled (encodeImages)', fn: () => encoder.encodeImages(images) },
  { label: 'dense (encodeImagePatches)', fn: () => dense.encodeImagePatches(images) },
];
for (const m of measures) await m.fn();
const best = measures.map(() => Number.POSITIVE_INFINITY);
for (let r = 0; r < repeats; r++) {
  for (const [i, m] of measures.entries()) {
    const t = performance.now();
    await m.fn();
    best[i] = Math.min(best[i]!, (performance.now() - t) / count);
  }
}
await encoder.close();
console.log(`${shape}, ${layers} layers, ${count} images, best of ${repeats}:`);
measures.forEach((m, i) => console.log(`  ${m.label}: ${best[i]!.toFixed(1)} ms per image`));
console.log(`ratio dense / pooled: ${(best[1]! / best[0]!).toFixed(3)}`);
