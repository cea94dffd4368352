/**
 * CLIP's hidden states in its joint space (the `DenseEncoder` capability the clip kind provides
 * for `clip.dense`): every patch of the vision tower's last_hidden_state through post_layernorm
 * and visual_projection, every token of the text tower's last_hidden_state (already after
 * final_layer_norm) through text_projection, each row L2-normalised, as DCSM builds its maps
 * (Kang et al. 2025, `Raphoo/DCSM_Ideal_CLIP`). The weights are read once from the ONNX files
 * (dense-projection.ts) and run as small onnxruntime graphs (projection-session.ts). Every batch is checked against the model's own pooled outputs: the
 * projected class token must equal image_embeds and the projected EOS token text_embeds (both
 * normalised, within 1e-3), else the model is reported as one this reader does not understand.
 */
import type * as ort from 'onnxruntime-node';
import { PerceiveError } from '../../core/errors.js';
import type { DenseEncoder, DenseTokens, DenseVectors, ImageInput } from '../capabilities.js';
import { type DenseProjection, readDenseProjection } from './dense-projection.js';
import { l2Normalise } from './onnx-folder.js';
import { project, projectionSession } from './projection-session.js';

interface Loaded {
  projection: DenseProjection;
  vision: ort.InferenceSession;
  text: ort.InferenceSession;
}

/** What the dense encoder needs of the CLIP runner: its towers' raw outputs. */
export interface TowerOutputs {
  runVision(images: ImageInput[], outputs: string[]): Promise<Array<{ count: number; outputs: Record<string, ort.Tensor> }>>;
  runText(texts: string[], outputs: string[]): Promise<Array<{ ids: number[][]; outputs: Record<string, ort.Tensor> }>>;
}

/** The largest difference allowed between a projected pooled row and the model's own embedding. */
const SELF_CHECK_TOLERANCE = 1e-3;

function floatTensor(t: ort.Tensor | undefined, name: string, rank: number, file: string): { data: Float32Array; dims: number[] } {
  if (t?.type !== 'float32' || t.dims.length !== rank) {
    throw new PerceiveError('bad-model', `${file}: output ${name} is ${t ? `${t.type} [${t.dims.join(', ')}]` : 'missing'}, expected float32 of rank ${rank}`);
  }
  return { data: t.data as Float32Array, dims: t.dims.map(Number) };
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Number.POSITIVE_INFINITY;
}

export class ClipDenseEncoder implements DenseEncoder {
  private loaded: Promise<Loaded> | undefined;

  constructor(
    private readonly towers: TowerOutputs,
    private readonly where: { dir: string; files: { text: string; vision: string }; epsilon: number; grid: number; threads?: number | undefined },
  ) {}

  get grid(): [number, number] {
    return [this.where.grid, this.where.grid];
  }

  private load(): Promise<Loaded> {
    if (!this.loaded) {
      this.loaded = (async () => {
        const projection = await readDenseProjection(this.where.dir, this.where.files, this.where.epsilon);
        const vision = await projectionSession(projection.vision.projection, projection.vision.layerNorm, this.where.threads);
        const text = await projectionSession(projection.text.projection, undefined, this.where.threads).catch(async (error: unknown) => {
          await vision.release();
          throw error;
        });
        return { projection, vision, text };
      })();
      this.loaded.catch(() => {
        this.loaded = undefined;
      });
    }
    return this.loaded;
  }

  async describe(): Promise<string[]> {
    return (await this.load()).projection.how;
  }

  /** Releases the projection sessions (the CLIP runner calls it on close). */
  async close(): Promise<void> {
    const loaded = await this.loaded?.catch(() => undefined);
    this.loaded = undefined;
    if (loaded) {
      await loaded.vision.release();
      await loaded.text.release();
    }
  }

  async encodeImagePatches(images: ImageInput[]): Promise<DenseVectors[]> {
    const { projection: p, vision } = await this.load();
    const file = `${this.where.dir}/${this.where.files.vision}`;
    const out: DenseVectors[] = [];
    for (const batch of await this.towers.runVision(images, ['image_embeds', 'last_hidden_state'])) {
      const hidden = floatTensor(batch.outputs.last_hidden_state, 'last_hidden_state', 3, file);
      const embeds = floatTensor(batch.outputs.image_embeds, 'image_embeds', 2, file);
      const [n, tokens, width] = hidden.dims as [number, number, number];
      if (n !== batch.count || width !== p.vision.projection.inDim || tokens !== this.where.grid ** 2 + 1) {
        throw new PerceiveError(
          'bad-model',
          `${file}: last_hidden_state is [${hidden.dims.join(', ')}], expected [${batch.count}, ${this.where.grid ** 2 + 1}, ${p.vision.projection.inDim}] (class token + ${this.where.grid}×${this.where.grid} patches)`,
        );
      }
      const dim = p.vision.projection.outDim;
      const projected = await project(vision, hidden.data, n * tokens, width);
      for (let i = 0; i < n; i++) {
        const data = new Float32Array(tokens * dim);
        for (let t = 0; t < tokens; t++) data.set(l2Normalise(projected.subarray((i * tokens + t) * dim, (i * tokens + t + 1) * dim)), t * dim);
        const own = l2Normalise(embeds.data.subarray(i * dim, (i + 1) * dim));
        const diff = maxAbsDifference(data.subarray(0, dim), own);
        if (!(diff <= SELF_CHECK_TOLERANCE)) {
          throw new PerceiveError(
            'bad-model',
            `${file}: post_layernorm + projection read from the graph do not reproduce image_embeds (max difference ${diff})`,
          );
        }
        out.push({ rows: tokens, dim, data });
      }
    }
    return out;
  }

  async encodeTextTokens(texts: string[]): Promise<DenseTokens[]> {
    const { projection: p, text } = await this.load();
    const file = `${this.where.dir}/${this.where.files.text}`;
    const out: DenseTokens[] = [];
    for (const batch of await this.towers.runText(texts, ['text_embeds', 'last_hidden_state'])) {
      const hidden = floatTensor(batch.outputs.last_hidden_state, 'last_hidden_state', 3, file);
      const embeds = floatTensor(batch.outputs.text_embeds, 'text_embeds', 2, file);
      const [n, seqLen, width] = hidden.dims as [number, number, number];
      if (n !== batch.ids.length || width !== p.text.projection.inDim) {
        throw new PerceiveError(
          'bad-model',
          `${file}: last_hidden_state is [${hidden.dims.join(', ')}], expected [${batch.ids.length}, ${seqLen}, ${p.text.projection.inDim}]`,
        );
      }
      const dim = p.text.projection.outDim;
      const projected = await project(text, hidden.data, n * seqLen, width);
      batch.ids.forEach((ids, r) => {
        const data = new Float32Array(ids.length * dim);
        for (let t = 0; t < ids.length; t++) data.set(l2Normalise(projected.subarray((r * seqLen + t) * dim, (r * seqLen + t + 1) * dim)), t * dim);
        // text_embeds is the projected EOS token (the last real one).
        const own = l2Normalise(embeds.data.subarray(r * dim, (r + 1) * dim));
        const diff = maxAbsDifference(data.subarray((ids.length - 1) * dim, ids.length * dim), own);
        if (!(diff <= SELF_CHECK_TOLERANCE)) {
          throw new PerceiveError(
            'bad-model',
            `${file}: the projection read from the graph does not reproduce text_embeds at the EOS token (max difference ${diff})`,
          );
        }
        out.push({ rows: ids.length, dim, data, ids });
      });
    }
    return out;
  }
}
