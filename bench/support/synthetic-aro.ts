/**
 * A synthetic ARO VG-Relation set in the authors' layout, for bench/scale.ts: `<dir>/images/<k>.jpg`
 * (one distinct 128 px image per row: seeded noise, a red and a blue box side by side) and
 * `<dir>/visual_genome_relation.json` (rows with `image_path`, the crop `bbox_*` around both boxes,
 * `true_caption`, `false_caption` with subject and object swapped, `relation_name`). Deterministic
 * for a seed; the loader crops every item to its box as ARO's `VG_Relation.__getitem__` does.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Prng } from '../../src/fixtures/prng.js';
import { Canvas, clamp, jitter, SIZE } from '../../src/fixtures/raw-canvas.js';

export interface SyntheticAro {
  dir: string;
  annotations: string;
  rows: number;
}

const RED = [200, 40, 40] as const;
const BLUE = [40, 60, 200] as const;

/** Writes `rows` rows (and images) under `dir` unless its annotation file is there already. */
export async function writeSyntheticAro(dir: string, options: { seed: number; rows: number }): Promise<SyntheticAro> {
  const annotations = path.join(dir, 'visual_genome_relation.json');
  if (fs.existsSync(annotations)) return { dir, annotations, rows: options.rows };
  const imageDir = path.join(dir, 'images');
  fs.mkdirSync(imageDir, { recursive: true });
  const prng = new Prng(options.seed);
  const out: unknown[] = [];
  for (let k = 0; k < options.rows; k++) {
    const base = [clamp(200 + jitter(prng, 30)), clamp(200 + jitter(prng, 30)), clamp(200 + jitter(prng, 30))] as const;
    const canvas = new Canvas(prng, base);
    const redLeft = prng.next() < 0.5;
    const y = 40 + Math.round(jitter(prng, 12));
    const x = 20 + Math.round(jitter(prng, 8));
    canvas.rect(x, y, x + 30, y + 30, redLeft ? RED : BLUE);
    canvas.rect(x + 44, y, x + 74, y + 30, redLeft ? BLUE : RED);
    const jpeg = await sharp(canvas.data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    fs.writeFileSync(path.join(imageDir, `${k}.jpg`), jpeg);
    const [subject, object] = redLeft ? ['red box', 'blue box'] : ['blue box', 'red box'];
    out.push({
      image_path: `${k}.jpg`,
      bbox_x: x - 8,
      bbox_y: y - 8,
      bbox_w: 90,
      bbox_h: 46,
      true_caption: `the ${subject} is to the left of the ${object}`,
      false_caption: `the ${object} is to the left of the ${subject}`,
      relation_name: 'to the left of',
    });
  }
  fs.writeFileSync(`${annotations}.tmp`, JSON.stringify(out));
  fs.renameSync(`${annotations}.tmp`, annotations);
  return { dir, annotations, rows: options.rows };
}
