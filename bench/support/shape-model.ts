/**
 * The CLIP shape models the CLIP benches run on (src/fixtures/shape-clip.ts: real widths, seeded
 * weights, K layers): the `--shape` and `--layers` options checked, and the folder generated into
 * .fixtures/shape/<shape>-k<K> when missing. Shared by bench/clip.ts and bench/clip-dense.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CLIP_SHAPES, type ClipShapeName, writeShapeClip } from '../../src/fixtures/shape-clip.js';

/** Where the shape folders are generated (relative to the working directory, as the benches are run from the repository root). */
export const SHAPE_ROOT = path.resolve('.fixtures/shape');

/** A positive integer command-line option, or an error naming `--name`. */
export function positiveIntOption(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** The `--shape` option checked against the known shapes. */
export function shapeOption(value: string | undefined): ClipShapeName {
  if (!(CLIP_SHAPES as readonly string[]).includes(value ?? '')) throw new Error(`--shape must be one of ${CLIP_SHAPES.join(', ')}`);
  return value as ClipShapeName;
}

/** The shape model's folder, generated (seed 0) and announced when it is not there yet. */
export async function ensureShapeModel(shape: ClipShapeName, layers: number): Promise<string> {
  const modelDir = path.join(SHAPE_ROOT, `${shape}-k${layers}`);
  try {
    await fs.access(path.join(modelDir, 'onnx', 'vision_model.onnx'));
  } catch {
    const t = Date.now();
    await writeShapeClip(modelDir, { shape, seed: 0, layers });
    console.log(`generated ${modelDir} in ${Date.now() - t} ms`);
  }
  return modelDir;
}
