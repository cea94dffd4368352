/**
 * CLIP preprocessing alone: ClipPreprocessor.preprocessInto (decode, resize, crop, normalise) on
 * the seeded 640×480 JPEGs of clip.ts, batch by batch into one buffer as ClipEncoder does, with
 * CLIP's preprocessor_config.json defaults (shortest edge 224, bicubic, crop 224). No model.
 *
 *   npx tsx bench/clip-preprocess.ts [--images N] [--batch B] [--repeats R] [--against FILE] [--small]
 *
 * `--against FILE`: another ClipPreprocessor module (e.g. an older clip-preprocessor.ts copied
 * next to the current one), measured in the same interleaved rounds, its tensors checked bit for
 * bit against the current ones first. Each round runs every side once; one warm-up round first.
 * The machine is shared, so the best round counts and the median is printed beside it, with the
 * load average at the start and the end. The last line is the current ms per image.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ClipPreprocessor, parsePreprocessorConfig } from '../src/models/clip/clip-preprocessor.js';
import type { ImageInput } from '../src/models/capabilities.js';
import { positiveIntOption } from './support/shape-model.js';
import { seededJpegs } from './support/seeded-jpegs.js';
import { spreadText } from './support/spread.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '64' },
    batch: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '5' },
    against: { type: 'string' },
    small: { type: 'boolean', default: false },
  },
});
if (values.small) {
  values.images = '8';
  values.repeats = '1';
}
const imageCount = positiveIntOption('images', values.images);
const batch = positiveIntOption('batch', values.batch);
const repeats = positiveIntOption('repeats', values.repeats);

interface Preprocessor {
  preprocessInto(image: ImageInput, target: Float32Array, offset: number, expected: { height: number; width: number }): Promise<unknown>;
}

const SIZE = 224;
const PLANE = 3 * SIZE * SIZE;

/** Every image's tensor, batch by batch as ClipEncoder.pixelBatch does. */
async function runAll(pre: Preprocessor, images: ImageInput[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < images.length; i += batch) {
    const part = images.slice(i, i + batch);
    const buf = new Float32Array(part.length * PLANE);
    await Promise.all(part.map((im, j) => pre.preprocessInto(im, buf, j * PLANE, { height: SIZE, width: SIZE })));
    out.push(buf);
  }
  return out;
}

const loadavg = (): string => os.loadavg()[0]!.toFixed(2);

async function main(): Promise<void> {
  const images = await seededJpegs(imageCount);
  const processing = parsePreprocessorConfig({});
  const sides: Array<{ label: string; pre: Preprocessor }> = [{ label: 'current', pre: new ClipPreprocessor(processing) }];
  if (values.against) {
    const mod = (await import(path.resolve(values.against))) as { ClipPreprocessor: new (p: typeof processing) => Preprocessor };
    sides.push({ label: `against ${values.against}`, pre: new mod.ClipPreprocessor(processing) });
    const [now, then] = await Promise.all(sides.map((s) => runAll(s.pre, images)));
    const same = now!.every((b, i) => Buffer.from(b.buffer).equals(Buffer.from(then![i]!.buffer)));
    console.log(`tensors of ${imageCount} images: ${same ? 'bit-identical' : 'DIFFERENT'}`);
    if (!same) process.exitCode = 1;
  }
  const startLoad = loadavg();
  console.log(`CLIP preprocessing: ${imageCount} images 640×480 JPEG → ${SIZE}, batch ${batch}, ${repeats} rounds, ${os.availableParallelism()} cores`);
  for (const s of sides) await runAll(s.pre, images);
  const runs = sides.map(() => [] as number[]);
  const cpu = sides.map(() => [] as number[]);
  for (let r = 0; r < repeats; r++) {
    for (const [i, s] of sides.entries()) {
      const t = process.hrtime.bigint();
      const c = process.cpuUsage();
      await runAll(s.pre, images);
      const used = process.cpuUsage(c);
      runs[i]!.push(Number(process.hrtime.bigint() - t) / 1e6 / imageCount);
      cpu[i]!.push((used.user + used.system) / 1e3 / imageCount);
    }
  }
  const best = runs.map((r) => Math.min(...r));
  for (const [i, s] of sides.entries()) {
    console.log(`${s.label}: wall ${spreadText(runs[i]!, 3)} ms/image (${runs[i]!.map((x) => x.toFixed(2)).join(', ')})`);
    // CPU time of the process (main thread and libvips' threads): what the preprocessing takes from inference on a machine whose cores onnxruntime fills.
    console.log(`${s.label}: CPU ${spreadText(cpu[i]!, 3)} ms/image`);
  }
  const ratio = best.length > 1 ? `; current / against ${(best[0]! / best[1]!).toFixed(3)}` : '';
  console.log(`load average (1 min) ${startLoad} at the start, ${loadavg()} at the end`);
  console.log(`decode + preprocess per 640×480 JPEG: ${best[0]!.toFixed(3)} ms (best of ${repeats})${ratio}`);
}

await main();
