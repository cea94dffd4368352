/**
 * `clip.dense`: CLIP's own patch and token vectors (clip-dense-encoder.ts) matched by a
 * training-free late-interaction rule, the question of Kang, Song, Gkioxari & Perona, "Is CLIP
 * ideal? No. Can we fix it? Yes!" (ICCV 2025, DCSM: dense cosine similarity maps,
 * `Raphoo/DCSM_Ideal_CLIP`): does the information a single pooled vector loses survive in CLIP's
 * per-patch and per-token states?
 *
 * Rule: **MaxSim late interaction** (Khattab & Zaharia 2020, ColBERT, §3.3):
 *   score(image, caption) = mean over the caption's tokens t of max over the image's patches p of cos(t, p).
 * Tokens: the caption's own tokens, BOS, EOS and padding excluded. BOS is the same vector for every
 * caption (CLIP's text tower is causal, so position 0 sees only itself); EOS is the pooled vector
 * that `clip` already scores. A caption with no token of its own (the empty string) is scored by
 * its EOS token. Patches: the grid's patches, the class token excluded (it is the pooled image
 * vector, not a place in the image).
 *
 * `export_maps: true` also records each (image, option) cosine map, [class token + patches] ×
 * [BOS, tokens, EOS], as one float32 array per item (`extra.array_files.dense_maps`), which the
 * run writes to `dense_maps/<arm>/<item id>.npy` beside samples.jsonl (src/run/array-files.ts).
 */
import { z } from 'zod';
import type { LoadedImage } from '../../core/image.js';
import type { Item } from '../../core/item.js';
import { PerceiveError } from '../../core/errors.js';
import { defineArm } from '../arm-definition.js';
import type { Arm, ArmOutput } from '../arm.js';
import type { ContrastiveEncoder, DenseEncoder, DenseTokens, DenseVectors } from '../capabilities.js';

export const DENSE_RULE =
  'MaxSim late interaction (Khattab & Zaharia 2020, ColBERT): mean over the caption tokens (BOS, EOS, padding excluded) of the max cosine over the patches (class token excluded); dense maps as DCSM (Kang et al. 2025, "Is CLIP ideal?")';

/** Cosine map [patch row][token column] of unit vectors: rows of `image` × rows of `text`. */
export function cosineMap(image: DenseVectors, text: DenseVectors): Float64Array {
  const dim = image.dim;
  const out = new Float64Array(image.rows * text.rows);
  for (let p = 0; p < image.rows; p++) {
    for (let t = 0; t < text.rows; t++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += image.data[p * dim + k]! * text.data[t * dim + k]!;
      out[p * text.rows + t] = s;
    }
  }
  return out;
}

/** The caption columns the rule averages over: 1 … n−2 (between BOS and EOS), else EOS alone. */
export function captionColumns(tokens: number): number[] {
  if (tokens <= 2) return [tokens - 1];
  return Array.from({ length: tokens - 2 }, (_, i) => i + 1);
}

/** MaxSim over a full map (row 0 the class token, column 0 BOS, the last column EOS). */
export function maxSim(map: Float64Array, patchRows: number, tokenColumns: number): number {
  const columns = captionColumns(tokenColumns);
  let sum = 0;
  for (const t of columns) {
    let best = Number.NEGATIVE_INFINITY;
    for (let p = 1; p < patchRows; p++) best = Math.max(best, map[p * tokenColumns + t]!);
    sum += best;
  }
  return sum / columns.length;
}

/** A map bounded in size, least recently used out first (patch vectors of a large CLIP are MBs per image). */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

export class ClipDenseArm implements Arm {
  readonly prompt = { id: 'clip.dense.maxsim', version: 1 };
  private readonly images = new Lru<Promise<DenseVectors>>(64);
  private readonly texts = new Lru<Promise<DenseTokens>>(4096);

  constructor(
    readonly model: string,
    private readonly encoder: ContrastiveEncoder,
    readonly id: string,
    private readonly exportMaps: boolean,
  ) {}

  get modelHash(): string {
    return this.encoder.modelHash;
  }

  /** Only what changes the result: the exported maps (scores are the same either way). */
  get params(): unknown {
    return this.exportMaps ? { export_maps: true } : undefined;
  }

  private dense(): DenseEncoder {
    const dense = this.encoder.dense;
    if (!dense) {
      throw new PerceiveError(
        'bad-model',
        `clip.dense needs a CLIP folder with separate tower exports (onnx/text_model.onnx, onnx/vision_model.onnx) that output last_hidden_state; model ${this.model} has none`,
      );
    }
    return dense;
  }

  async prepare(items: Item[], images: (file: string) => Promise<LoadedImage>): Promise<void> {
    const dense = this.encoder.dense;
    if (!dense) return; // each item fails with the reason in score()
    const texts = [...new Set(items.flatMap((i) => i.options))].filter((t) => !this.texts.get(t));
    if (texts.length > 0) {
      const encoded = dense.encodeTextTokens(texts);
      texts.forEach((t, k) =>
        this.texts.set(
          t,
          encoded.then((e) => e[k]!),
        ),
      );
      await encoded.catch(() => texts.forEach((t) => this.texts.delete(t)));
    }
    const loaded: LoadedImage[] = [];
    for (const file of new Set(items.flatMap((i) => i.images))) {
      try {
        const image = await images(file);
        if (!this.images.get(image.sha256)) loaded.push(image);
      } catch {
        /* reported per item */
      }
    }
    const unique = [...new Map(loaded.map((i) => [i.sha256, i])).values()];
    if (unique.length > 0) {
      const encoded = dense.encodeImagePatches(unique);
      unique.forEach((img, k) =>
        this.images.set(
          img.sha256,
          encoded.then((e) => e[k]!),
        ),
      );
      await encoded.catch(() => unique.forEach((img) => this.images.delete(img.sha256)));
    }
  }

  private image(dense: DenseEncoder, image: LoadedImage): Promise<DenseVectors> {
    let e = this.images.get(image.sha256);
    if (!e) {
      e = dense.encodeImagePatches([image]).then((r) => r[0]!);
      this.images.set(image.sha256, e);
    }
    return e;
  }

  private text(dense: DenseEncoder, text: string): Promise<DenseTokens> {
    let e = this.texts.get(text);
    if (!e) {
      e = dense.encodeTextTokens([text]).then((r) => r[0]!);
      this.texts.set(text, e);
    }
    return e;
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const dense = this.dense();
    const patches = await Promise.all(images.map((i) => this.image(dense, i)));
    const tokens = await Promise.all(item.options.map((t) => this.text(dense, t)));
    const maps = patches.map((v) => tokens.map((t) => cosineMap(v, t)));
    const scores = maps.map((row, i) => row.map((map, o) => maxSim(map, patches[i]!.rows, tokens[o]!.rows)));
    const extra: Record<string, unknown> = {
      rule: DENSE_RULE,
      // The pooled cosine (`clip`'s score) beside it: class token · EOS token.
      pooled_scores: maps.map((row) => row.map((map, o) => map[tokens[o]!.rows - 1]!)),
      caption_tokens: tokens.map((t) => captionColumns(t.rows).length),
      // Which initializers and nodes the projections were read from.
      projection: await dense.describe(),
    };
    if (this.exportMaps) extra.array_files = { dense_maps: this.mapArray(maps, patches, tokens, dense.grid) };
    return { scores, extra };
  }

  /** [images, options, 1 + patches, max tokens] float32, NaN beyond an option's own tokens. */
  private mapArray(maps: Float64Array[][], patches: DenseVectors[], tokens: DenseTokens[], grid: [number, number]): Record<string, unknown> {
    const rows = patches[0]!.rows;
    const columns = Math.max(...tokens.map((t) => t.rows));
    const shape = [maps.length, tokens.length, rows, columns];
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN);
    maps.forEach((row, i) =>
      row.forEach((map, o) => {
        const n = tokens[o]!.rows;
        for (let p = 0; p < rows; p++) for (let t = 0; t < n; t++) data[((i * tokens.length + o) * rows + p) * columns + t] = map[p * n + t]!;
      }),
    );
    return {
      dtype: 'float32',
      shape,
      axes: ['image', 'option', 'class token then patches (row-major grid)', 'BOS, caption tokens, EOS (NaN beyond)'],
      grid,
      token_ids: tokens.map((t) => t.ids),
      data_base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    };
  }
}

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only');

export const ClipDenseArmSchema = z.strictObject({
  arm: z.literal('clip.dense'),
  model: NAME,
  label: NAME.optional(),
  /** Write each item's patch × token cosine maps to dense_maps/<arm>/<item id>.npy (for DCSM-style scorers). */
  export_maps: z.boolean().default(false),
});

/** `arm: clip.dense` runs on the contrastive set; only CLIP tower folders provide its dense vectors (others fail with bad-model). */
export const CLIP_DENSE_ARM = defineArm({
  arm: 'clip.dense',
  schema: ClipDenseArmSchema,
  needs: 'contrastive',
  create: (spec, encoder, id) => new ClipDenseArm(spec.model, encoder, id, spec.export_maps),
});
