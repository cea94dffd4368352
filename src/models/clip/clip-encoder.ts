/**
 * The CLIP runner: a model folder in the Hugging Face / Xenova ONNX layout behind onnxruntime-node.
 *
 *   config.json, preprocessor_config.json, tokenizer.json (tokenizer_config.json optional)
 *   onnx/text_model.onnx  (input_ids → text_embeds)  + onnx/vision_model.onnx (pixel_values → image_embeds)
 *   or onnx/model.onnx    (input_ids, pixel_values, attention_mask → text_embeds, image_embeds, logits…)
 *
 * Inference is batched; the next image batch is decoded (sharp, on libuv's thread pool) while the
 * current one runs (onnxruntime-node runs on the main thread). Embeddings come back L2-normalised
 * by this class, because exports differ in whether they normalise (CLIPModel does,
 * CLIP*ModelWithProjection does not).
 */
import { type OnnxProvider, type OnnxProviderSetting, openOnProvider } from './onnx-provider.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { PerceiveError } from '../../core/errors.js';
import type { ContrastiveEncoder, DenseEncoder, ImageInput } from '../capabilities.js';
import { ClipDenseEncoder } from './clip-dense-encoder.js';
import { ClipPreprocessor, imageLabel, parsePreprocessorConfig } from './clip-preprocessor.js';
import { ClipTokenizer, DEFAULT_CONTEXT_LENGTH } from './clip-tokenizer.js';
import { describeZodIssues } from '../../core/zod-issues.js';
import { readFloatInitializers } from './onnx-graph-reader.js';
import { COMBINED, embeddingRows, fileExists, l2Normalise, openOnnxSessions, readFolderJson, SEPARATE } from './onnx-folder.js';

export { l2Normalise };

export interface ClipEncoderOptions {
  /** onnxruntime intra-op threads; default: onnxruntime's (the physical cores). */
  threads?: number;
  /** Images per inference call (default 8); also texts per call unless textBatchSize is set. */
  batchSize?: number;
  /** Texts per inference call (default 32, or batchSize when that is set). */
  textBatchSize?: number;
  /**
   * Decode and preprocess the next image batch while this one runs (default: on). onnxruntime's
   * threads do not spin while they wait (openOnnxSessions), so where they take every core the
   * decoding fills their waits instead of preempting a spinning thread: measured on 2 cores, B/32
   * with 12 layers, best of 9 interleaved rounds, 27.11–27.88 ms per image overlapped against
   * 27.30–28.56 one after the other (bare inference 24.2–25.2). With spinning threads (onnxruntime's
   * default) overlapping was the slower one (57.0 against 53.9 ms, turn 1).
   */
  overlapDecode?: boolean;
  /** onnxruntime's execution provider (onnx-provider.ts); default `cpu`. The config's default is `auto`. */
  provider?: OnnxProviderSetting;
}

const DEFAULT_IMAGE_BATCH = 8;
const DEFAULT_TEXT_BATCH = 32;

const FOLDER_LAYOUT =
  'a CLIP model folder must contain config.json, preprocessor_config.json, tokenizer.json and either ' +
  'onnx/text_model.onnx + onnx/vision_model.onnx or onnx/model.onnx (the Hugging Face / Xenova ONNX export layout)';

const positiveInt = z.number().int().positive();
/** The parts of a CLIPModel config.json this runner relies on. */
const ClipConfigSchema = z.looseObject({
  model_type: z.string().optional(),
  projection_dim: positiveInt.optional(),
  text_config: z.looseObject({ max_position_embeddings: positiveInt.optional() }).optional(),
  vision_config: z.looseObject({ image_size: positiveInt, patch_size: positiveInt.optional(), layer_norm_eps: z.number().positive().optional() }),
});

const readJsonFile = (dir: string, name: string): Promise<unknown> => readFolderJson(dir, name, { layout: FOLDER_LAYOUT });

/**
 * sha256 over the files that determine the embeddings, in a fixed order, each framed by its
 * relative path and size so that moving bytes between files changes the hash.
 */
export async function hashModelFiles(dir: string, files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of files) {
    const file = path.join(dir, rel);
    const { size } = await fs.stat(file);
    hash.update(`${rel}\0${size}\0`);
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** Cosine similarity; for the (already normalised) embeddings of this runner it is the dot product. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cosine of vectors of length ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface Sessions {
  text: ort.InferenceSession;
  vision: ort.InferenceSession;
  /** Both towers in one session (onnx/model.onnx): each call must feed both inputs. */
  combined: boolean;
}

export class ClipEncoder implements ContrastiveEncoder {
  private closed = false;
  /** The onnxruntime execution provider the sessions run on. */
  provider: OnnxProvider = 'cpu';
  /** Why `auto` fell back to the CPU, when it did. */
  providerNote: string | undefined;

  private constructor(
    readonly modelHash: string,
    /** The folder, resolved. */
    readonly dir: string,
    private readonly sessions: Sessions,
    private readonly tokenizer: ClipTokenizer,
    private readonly preprocessor: ClipPreprocessor,
    /** Square input side the vision tower expects (vision_config.image_size). */
    readonly imageSize: number,
    private readonly imageBatch: number,
    private readonly textBatch: number,
    private readonly overlapDecode: boolean,
    /** vision_config's patch size and layer_norm_eps, and the threads, for the dense encoder. */
    private readonly denseSetup: { patchSize: number; layerNormEps: number; threads: number | undefined },
  ) {}

  private denseEncoder: ClipDenseEncoder | undefined;

  /**
   * The dense encoder (clip-dense-encoder.ts) where both towers are separate files that output
   * last_hidden_state (the HF tower exports); undefined for a combined model.onnx.
   */
  get dense(): DenseEncoder | undefined {
    if (this.sessions.combined) return undefined;
    if (!this.sessions.vision.outputNames.includes('last_hidden_state') || !this.sessions.text.outputNames.includes('last_hidden_state')) return undefined;
    this.denseEncoder ??= new ClipDenseEncoder(this, {
      dir: this.dir,
      files: SEPARATE,
      epsilon: this.denseSetup.layerNormEps,
      grid: Math.floor(this.imageSize / this.denseSetup.patchSize),
      threads: this.denseSetup.threads,
    });
    return this.denseEncoder;
  }

  /** The vision tower's named outputs for images, batch by batch (the dense encoder reads last_hidden_state). */
  async runVision(images: ImageInput[], outputs: string[]): Promise<Array<{ count: number; outputs: Record<string, ort.Tensor> }>> {
    this.assertOpen();
    const result: Array<{ count: number; outputs: Record<string, ort.Tensor> }> = [];
    for (const batch of chunks(images, this.imageBatch)) {
      const pixels = await this.pixelBatch(batch);
      const size = this.imageSize;
      const feeds = { pixel_values: new ort.Tensor('float32', pixels, [batch.length, 3, size, size]) };
      const out = await this.sessions.vision.run(feeds, outputs).finally(() => this.giveBuffer(pixels));
      result.push({ count: batch.length, outputs: out as Record<string, ort.Tensor> });
    }
    return result;
  }

  /** The text tower's named outputs for texts, batch by batch, with each row's token ids (BOS … EOS). */
  async runText(texts: string[], outputs: string[]): Promise<Array<{ ids: number[][]; outputs: Record<string, ort.Tensor> }>> {
    this.assertOpen();
    const result: Array<{ ids: number[][]; outputs: Record<string, ort.Tensor> }> = [];
    const wantsMask = this.sessions.text.inputNames.includes('attention_mask');
    for (const batch of chunks(texts, this.textBatch)) {
      const tokens = this.tokenizer.encodeBatch(batch);
      const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', tokens.inputIds, tokens.dims) };
      if (wantsMask) feeds.attention_mask = new ort.Tensor('int64', tokens.attentionMask, tokens.dims);
      const out = await this.sessions.text.run(feeds, outputs);
      const seqLen = tokens.dims[1];
      const ids = tokens.lengths.map((n, r) => Array.from(tokens.inputIds.subarray(r * seqLen, r * seqLen + n), (v) => Number(v)));
      result.push({ ids, outputs: out as Record<string, ort.Tensor> });
    }
    return result;
  }

  get contextLength(): number {
    return this.tokenizer.contextLength;
  }

  get layout(): 'separate' | 'combined' {
    return this.sessions.combined ? 'combined' : 'separate';
  }

  /**
   * Validates the folder and creates the onnxruntime sessions. Any problem with the folder is a
   * PerceiveError('bad-model') that names the file.
   */
  static async load(dir: string, options: ClipEncoderOptions = {}): Promise<ClipEncoder> {
    const root = path.resolve(dir);
    const stat = await fs.stat(root).catch(() => null);
    if (!stat?.isDirectory()) throw new PerceiveError('bad-model', `${root} is not a folder; ${FOLDER_LAYOUT}`);

    const configResult = ClipConfigSchema.safeParse(await readJsonFile(root, 'config.json'));
    if (!configResult.success) {
      throw new PerceiveError(
        'bad-model',
        `${path.join(root, 'config.json')}: ${describeZodIssues(configResult.error, { limit: 1 })} (expected a CLIPModel config)`,
      );
    }
    const config = configResult.data;
    const processing = parsePreprocessorConfig(await readJsonFile(root, 'preprocessor_config.json'), path.join(root, 'preprocessor_config.json'));
    const preprocessor = new ClipPreprocessor(processing);
    const imageSize = config.vision_config.image_size;
    const out = preprocessor.outputSize;
    if (!out || out.height !== imageSize || out.width !== imageSize) {
      throw new PerceiveError(
        'bad-model',
        `${root}: preprocessor_config.json gives ${out ? `${out.height}×${out.width}` : 'variable-size'} images but vision_config.image_size is ${imageSize}`,
      );
    }
    const tokenizerJson = await readJsonFile(root, 'tokenizer.json');
    const tokenizerConfig = (await fileExists(path.join(root, 'tokenizer_config.json'))) ? await readJsonFile(root, 'tokenizer_config.json') : {};
    const tokenizer = ClipTokenizer.fromJson(tokenizerJson, {
      contextLength: config.text_config?.max_position_embeddings ?? DEFAULT_CONTEXT_LENGTH,
      tokenizerConfig,
      source: path.join(root, 'tokenizer.json'),
    });

    // Which layout: both separate towers, else the combined model; name what is missing.
    const hasText = await fileExists(path.join(root, SEPARATE.text));
    const hasVision = await fileExists(path.join(root, SEPARATE.vision));
    let modelFiles: string[];
    if (hasText && hasVision) modelFiles = [SEPARATE.text, SEPARATE.vision];
    else if (await fileExists(path.join(root, COMBINED))) modelFiles = [COMBINED];
    else {
      const missing = hasText ? SEPARATE.vision : hasVision ? SEPARATE.text : `${SEPARATE.text}, ${SEPARATE.vision} (or ${COMBINED})`;
      throw new PerceiveError('bad-model', `${root}: missing ${missing}; ${FOLDER_LAYOUT}`);
    }
    // Large exports keep their weights next to the graph (external data); they count too.
    const withData: string[] = [];
    for (const file of modelFiles) {
      withData.push(file);
      if (await fileExists(path.join(root, `${file}_data`))) withData.push(`${file}_data`);
    }
    const modelHash = await hashModelFiles(root, ['config.json', 'preprocessor_config.json', 'tokenizer.json', ...withData]);

    const openAll = async (providers: string[]): Promise<Sessions> => {
      // modelFiles: the text then the vision tower, or the combined model alone.
      const opened = await openOnnxSessions(root, modelFiles, providers, options.threads);
      const text = opened[0]!;
      return { text, vision: opened[1] ?? text, combined: opened.length === 1 };
    };
    const opened = await openOnProvider(options.provider ?? 'cpu', openAll);
    const sessions = opened.value;
    try {
      ClipEncoder.checkSignature(root, sessions);
    } catch (error) {
      await ClipEncoder.releaseAll(sessions);
      throw error;
    }

    const imageBatch = options.batchSize ?? DEFAULT_IMAGE_BATCH;
    const textBatch = options.textBatchSize ?? options.batchSize ?? DEFAULT_TEXT_BATCH;
    if (!(imageBatch >= 1 && textBatch >= 1)) throw new PerceiveError('bad-config', 'CLIP batch sizes must be at least 1');
    const overlap = options.overlapDecode ?? true;
    const denseSetup = {
      patchSize: config.vision_config.patch_size ?? 32,
      layerNormEps: config.vision_config.layer_norm_eps ?? 1e-5,
      threads: options.threads,
    };
    const encoder = new ClipEncoder(
      modelHash,
      root,
      sessions,
      tokenizer,
      preprocessor,
      imageSize,
      Math.floor(imageBatch),
      Math.floor(textBatch),
      overlap,
      denseSetup,
    );
    encoder.provider = opened.provider;
    encoder.providerNote = opened.note;
    return encoder;
  }

  /** The inputs and outputs this runner feeds and reads must be there, with float32 pixels. */
  private static checkSignature(root: string, s: Sessions): void {
    const need = (session: ort.InferenceSession, file: string, inputs: string[], outputs: string[]) => {
      for (const name of inputs) {
        if (!session.inputNames.includes(name)) {
          throw new PerceiveError('bad-model', `${path.join(root, file)} has no input ${name} (inputs: ${session.inputNames.join(', ')})`);
        }
      }
      for (const name of outputs) {
        if (!session.outputNames.includes(name)) {
          throw new PerceiveError('bad-model', `${path.join(root, file)} has no output ${name} (outputs: ${session.outputNames.join(', ')})`);
        }
      }
      const pixels = session.inputMetadata.find((m) => m.name === 'pixel_values');
      if (pixels?.isTensor && pixels.type !== 'float32') {
        throw new PerceiveError('bad-model', `${path.join(root, file)}: pixel_values is ${pixels.type}; only float32 exports are supported`);
      }
    };
    if (s.combined) need(s.text, COMBINED, ['input_ids', 'pixel_values'], ['text_embeds', 'image_embeds']);
    else {
      need(s.text, SEPARATE.text, ['input_ids'], ['text_embeds']);
      need(s.vision, SEPARATE.vision, ['pixel_values'], ['image_embeds']);
    }
  }

  private static async releaseAll(s: Sessions): Promise<void> {
    await s.text.release();
    if (!s.combined) await s.vision.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('ClipEncoder used after close()');
  }

  /**
   * Decodes and preprocesses a batch into one [n, 3, size, size] float32 buffer; each image is
   * written straight into its slot (no per-image tensor and copy).
   */
  private async pixelBatch(images: ImageInput[]): Promise<Float32Array> {
    const size = { height: this.imageSize, width: this.imageSize };
    const plane = 3 * this.imageSize * this.imageSize;
    const out = this.takeBuffer(images.length * plane);
    const sizes = await Promise.all(images.map((image, i) => this.preprocessor.preprocessInto(image, out, i * plane, size)));
    sizes.forEach((p, i) => {
      if (p.height !== this.imageSize || p.width !== this.imageSize) {
        throw new PerceiveError(
          'bad-image',
          `image ${imageLabel(images[i] as ImageInput)} preprocessed to ${p.height}×${p.width}, model needs ${this.imageSize}`,
        );
      }
    });
    return out;
  }

  /**
   * Pixel buffers are reused between batches (a batch of 8 at 336 px is 10.8 MB: a fresh one per
   * batch costs page faults and garbage collection). Every slot is overwritten by preprocessInto.
   */
  private readonly buffers: Float32Array[] = [];

  private takeBuffer(length: number): Float32Array {
    const i = this.buffers.findIndex((b) => b.length === length);
    return i >= 0 ? this.buffers.splice(i, 1)[0]! : new Float32Array(length);
  }

  private giveBuffer(buffer: Float32Array): void {
    if (this.buffers.length < 2) this.buffers.push(buffer);
  }

  /** Feeds the combined model's other tower needs: one BOS/EOS text, or one black image. */
  private dummyText(): Record<string, ort.Tensor> {
    const ids = BigInt64Array.from([BigInt(this.tokenizer.bosId), BigInt(this.tokenizer.eosId)]);
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, [1, 2]) };
    if (this.sessions.text.inputNames.includes('attention_mask')) {
      feeds.attention_mask = new ort.Tensor('int64', BigInt64Array.from([1n, 1n]), [1, 2]);
    }
    return feeds;
  }

  private dummyImage(): Record<string, ort.Tensor> {
    const n = this.imageSize;
    return { pixel_values: new ort.Tensor('float32', new Float32Array(3 * n * n), [1, 3, n, n]) };
  }

  async encodeImages(images: ImageInput[]): Promise<Float32Array[]> {
    return this.visionRows(images, 'image_embeds', (output, n) => embeddingRows(output, n, 'image_embeds', 'CLIP'));
  }

  /** post_layernorm's weight and bias, read from the vision graph on first use. */
  private postLayerNorm: Promise<{ weight: Float32Array; bias: Float32Array }> | undefined;

  /**
   * The vision tower's pooled output before the projection, as CLIPVisionModel's `pooler_output`:
   * post_layernorm(last_hidden_state[:, 0]) with the weights of the vision graph's initializers
   * `vision_model.post_layernorm.{weight,bias}` (HF's export keeps them; `image_embeds` is this
   * times the projection). Not normalised. Needs the separate vision tower with a
   * `last_hidden_state` output (HF's CLIPVisionModelWithProjection export has it); otherwise
   * PerceiveError('arm-not-applicable').
   */
  async encodePooledImages(images: ImageInput[]): Promise<Float32Array[]> {
    if (this.sessions.combined || !this.sessions.vision.outputNames.includes('last_hidden_state')) {
      throw new PerceiveError(
        'arm-not-applicable',
        `${path.join(this.dir, this.sessions.combined ? COMBINED : SEPARATE.vision)} has no vision last_hidden_state output: no pooled embedding`,
        {
          hint: 'use embedding: image_embeds, or an export with onnx/vision_model.onnx giving last_hidden_state',
        },
      );
    }
    this.postLayerNorm ??= readFloatInitializers(path.join(this.dir, SEPARATE.vision), [
      'vision_model.post_layernorm.weight',
      'vision_model.post_layernorm.bias',
    ]).then((m) => ({
      weight: m.get('vision_model.post_layernorm.weight')!,
      bias: m.get('vision_model.post_layernorm.bias')!,
    }));
    this.postLayerNorm.catch(() => (this.postLayerNorm = undefined));
    const norm = await this.postLayerNorm;
    const eps = this.denseSetup.layerNormEps;
    return this.visionRows(images, 'last_hidden_state', (output, n) => {
      const dims = output?.dims ?? [];
      const width = Number(dims[2]);
      if (output?.type !== 'float32' || dims.length !== 3 || dims[0] !== n || width !== norm.weight.length) {
        throw new PerceiveError(
          'bad-model',
          `CLIP output last_hidden_state has shape [${dims.join(', ')}], expected [${n}, tokens, ${norm.weight.length}] float32`,
        );
      }
      const data = output.data as Float32Array;
      const perImage = Number(dims[1]) * width;
      return Array.from({ length: n }, (_, r) => {
        const cls = data.subarray(r * perImage, r * perImage + width);
        let mean = 0;
        for (const v of cls) mean += v;
        mean /= width;
        let variance = 0;
        for (const v of cls) variance += (v - mean) ** 2;
        const inv = 1 / Math.sqrt(variance / width + eps);
        return Float32Array.from(cls, (v, j) => (v - mean) * inv * norm.weight[j]! + norm.bias[j]!);
      });
    });
  }

  /** Runs the vision tower on batches of images and splits `output` into one row per image. */
  private async visionRows(
    images: ImageInput[],
    outputName: string,
    rows: (output: ort.Tensor | undefined, n: number) => Float32Array[],
  ): Promise<Float32Array[]> {
    this.assertOpen();
    const batches = chunks(images, this.imageBatch);
    const result: Float32Array[] = [];
    const start = (i: number): Promise<Float32Array> | undefined => {
      const batch = batches[i];
      if (!batch) return undefined;
      const pending = this.pixelBatch(batch);
      pending.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
      return pending;
    };
    let next = start(0);
    for (let i = 0; next; i++) {
      const pixels = await next;
      // With a core to spare, the next batch is decoded while this one runs; else after it.
      next = this.overlapDecode ? start(i + 1) : undefined;
      const n = (batches[i] as ImageInput[]).length;
      const size = this.imageSize;
      const feeds: Record<string, ort.Tensor> = {
        ...(this.sessions.combined ? this.dummyText() : {}),
        pixel_values: new ort.Tensor('float32', pixels, [n, 3, size, size]),
      };
      const output = await this.sessions.vision.run(feeds, [outputName]).finally(() => this.giveBuffer(pixels));
      result.push(...rows(output[outputName], n));
      next ??= start(i + 1);
    }
    return result;
  }

  async encodeTexts(texts: string[]): Promise<Float32Array[]> {
    this.assertOpen();
    const result: Float32Array[] = [];
    const wantsMask = this.sessions.text.inputNames.includes('attention_mask');
    for (const batch of chunks(texts, this.textBatch)) {
      const tokens = this.tokenizer.encodeBatch(batch);
      const feeds: Record<string, ort.Tensor> = {
        ...(this.sessions.combined ? this.dummyImage() : {}),
        input_ids: new ort.Tensor('int64', tokens.inputIds, tokens.dims),
      };
      if (wantsMask) feeds.attention_mask = new ort.Tensor('int64', tokens.attentionMask, tokens.dims);
      const output = await this.sessions.text.run(feeds, ['text_embeds']);
      result.push(...embeddingRows(output.text_embeds, batch.length, 'text_embeds', 'CLIP'));
    }
    return result;
  }

  /** Releases the onnxruntime sessions. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.denseEncoder?.close();
    await ClipEncoder.releaseAll(this.sessions);
  }
}
