/**
 * The SigLIP / SigLIP2 encoder: a fixed-resolution SiglipModel folder in the Hugging Face / Xenova /
 * onnx-community ONNX layout behind onnxruntime-node.
 *
 *   config.json (model_type siglip, text_config, vision_config), preprocessor_config.json,
 *   tokenizer.json (tokenizer_config.json optional: pad token, tokenizer class)
 *   onnx/text_model.onnx (input_ids → pooler_output) + onnx/vision_model.onnx (pixel_values → pooler_output)
 *   and/or onnx/model.onnx (input_ids, pixel_values → text_embeds, image_embeds, logits_per_*)
 *
 * When both towers are there they encode; model.onnx, when there, is only read for the trained
 * logit scale and bias (see siglip-logit-params.ts). Embeddings come back L2-normalised (the tower
 * exports do not normalise). Texts are lowercased and padded to max_length (siglip-tokenizer.ts);
 * images are resized to the square size without a crop (siglip-preprocessor.ts). The architecture
 * followed is transformers' SiglipModel
 * (huggingface/transformers@1c51a62f5861390e994db1464e8a51f6d7fbacbc:src/transformers/models/siglip/modeling_siglip.py).
 * SigLIP2's NaFlex variants (model_type siglip2, variable resolution) are not this kind.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { PerceiveError } from '../../core/errors.js';
import { chunks, hashModelFiles } from '../clip/clip-encoder.js';
import { type OnnxProvider, type OnnxProviderSetting, openOnProvider } from '../clip/onnx-provider.js';
import { COMBINED, embeddingRows, fileExists, openOnnxSessions, readFolderJson, SEPARATE } from '../clip/onnx-folder.js';
import { type ClipPreprocessor, imageLabel } from '../clip/clip-preprocessor.js';
import type { ContrastiveEncoder, ImageInput } from '../capabilities.js';
import { logitParamsFromConfig, readLogitParamsFromOnnx } from './siglip-logit-params.js';
import { siglipPreprocessor } from './siglip-preprocessor.js';
import { type SiglipLogitParams, siglipProbability } from './siglip-score.js';
import { SiglipTokenizer } from './siglip-tokenizer.js';

export interface SiglipEncoderOptions {
  /** onnxruntime's execution provider (clip/onnx-provider.ts); default `cpu`. The config's default is `auto`. */
  provider?: OnnxProviderSetting;
  /** onnxruntime intra-op threads; default: onnxruntime's (the physical cores). */
  threads?: number;
  /** Images per inference call (default 8); also texts per call unless textBatchSize is set. */
  batchSize?: number;
  /** Texts per inference call (default 32, or batchSize when that is set). */
  textBatchSize?: number;
}

const DEFAULT_IMAGE_BATCH = 8;
const DEFAULT_TEXT_BATCH = 32;

const FOLDER_LAYOUT =
  'a SigLIP model folder must contain config.json (model_type siglip), preprocessor_config.json, tokenizer.json and ' +
  'onnx/text_model.onnx + onnx/vision_model.onnx and/or onnx/model.onnx (the Hugging Face / Xenova ONNX export layout)';

const positiveInt = z.number().int().positive();
/** The parts of a SiglipModel config.json this encoder relies on. */
const SiglipConfigSchema = z.looseObject({
  model_type: z.string(),
  text_config: z.looseObject({ max_position_embeddings: positiveInt.optional() }).optional(),
  vision_config: z.looseObject({ image_size: positiveInt, patch_size: positiveInt.optional() }),
});

const readJsonFile = (dir: string, name: string, required: boolean): Promise<unknown> =>
  readFolderJson(dir, name, { layout: FOLDER_LAYOUT, optional: !required });

interface Sessions {
  text: ort.InferenceSession;
  vision: ort.InferenceSession;
  /** Both towers in one session (onnx/model.onnx): each call must feed both inputs. */
  combined: boolean;
  /** The output read for each tower: text_embeds / image_embeds, else pooler_output. */
  textOutput: string;
  visionOutput: string;
}

export class SiglipEncoder implements ContrastiveEncoder {
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
    readonly tokenizer: SiglipTokenizer,
    private readonly preprocessor: ClipPreprocessor,
    /** Square input side the vision tower expects (vision_config.image_size). */
    readonly imageSize: number,
    /** The trained logit scale (log space) and bias, or null when the folder holds neither. */
    readonly logitParams: SiglipLogitParams | null,
    private readonly imageBatch: number,
    private readonly textBatch: number,
  ) {}

  get layout(): 'separate' | 'combined' {
    return this.sessions.combined ? 'combined' : 'separate';
  }

  /** sigmoid(exp(t)·cos + b) for a cosine of this model's embeddings; null without logit params. */
  probability(cos: number): number | null {
    return this.logitParams ? siglipProbability(cos, this.logitParams) : null;
  }

  /**
   * Validates the folder and creates the onnxruntime sessions. Any problem with the folder is a
   * PerceiveError('bad-model') that names the file.
   */
  static async load(dir: string, options: SiglipEncoderOptions = {}): Promise<SiglipEncoder> {
    const root = path.resolve(dir);
    const stat = await fs.stat(root).catch(() => null);
    if (!stat?.isDirectory()) throw new PerceiveError('bad-model', `${root} is not a folder; ${FOLDER_LAYOUT}`);

    const configJson = await readJsonFile(root, 'config.json', true);
    const configResult = SiglipConfigSchema.safeParse(configJson);
    if (!configResult.success) {
      const issue = configResult.error.issues[0];
      throw new PerceiveError(
        'bad-model',
        `${path.join(root, 'config.json')}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'} (expected a SiglipModel config)`,
      );
    }
    const config = configResult.data;
    if (config.model_type !== 'siglip') {
      const hint =
        config.model_type === 'siglip2'
          ? ' (SigLIP2 NaFlex, variable resolution, is not supported; its fixed-resolution checkpoints are model_type siglip)'
          : '';
      throw new PerceiveError('bad-model', `${path.join(root, 'config.json')}: model_type is ${config.model_type}, expected siglip${hint}`);
    }
    const preprocessorFile = path.join(root, 'preprocessor_config.json');
    const preprocessor = siglipPreprocessor(await readJsonFile(root, 'preprocessor_config.json', true), preprocessorFile);
    const imageSize = config.vision_config.image_size;
    const out = preprocessor.outputSize;
    if (out?.height !== imageSize || out.width !== imageSize) {
      throw new PerceiveError(
        'bad-model',
        `${root}: preprocessor_config.json gives ${out ? `${out.height}×${out.width}` : 'variable-size'} images but vision_config.image_size is ${imageSize}`,
      );
    }
    const tokenizerConfig = await readJsonFile(root, 'tokenizer_config.json', false);
    const tokenizer = SiglipTokenizer.fromJson(await readJsonFile(root, 'tokenizer.json', true), {
      tokenizerConfig: tokenizerConfig ?? {},
      config: configJson,
      source: path.join(root, 'tokenizer.json'),
    });

    const hasText = await fileExists(path.join(root, SEPARATE.text));
    const hasVision = await fileExists(path.join(root, SEPARATE.vision));
    const hasCombined = await fileExists(path.join(root, COMBINED));
    let modelFiles: string[];
    if (hasText && hasVision) modelFiles = [SEPARATE.text, SEPARATE.vision];
    else if (hasCombined) modelFiles = [COMBINED];
    else {
      const missing = hasText ? SEPARATE.vision : hasVision ? SEPARATE.text : `${SEPARATE.text}, ${SEPARATE.vision} (or ${COMBINED})`;
      throw new PerceiveError('bad-model', `${root}: missing ${missing}; ${FOLDER_LAYOUT}`);
    }

    // The logit scale and bias: model.onnx's graph, else config.json, else none.
    let logitParams: SiglipLogitParams | null = null;
    const fromGraph = hasCombined ? await readLogitParamsFromOnnx(path.join(root, COMBINED)) : undefined;
    if (fromGraph) logitParams = { scale: fromGraph.scale, bias: fromGraph.bias, source: `${COMBINED} (${fromGraph.how})` };
    else {
      const fromConfig = logitParamsFromConfig(configJson);
      if (fromConfig) logitParams = { ...fromConfig, source: 'config.json (logit_scale, logit_bias)' };
    }

    // Hashed: everything that changes embeddings or scores, weights kept beside a graph included.
    const hashed = ['config.json', 'preprocessor_config.json', 'tokenizer.json'];
    if (tokenizerConfig !== undefined) hashed.push('tokenizer_config.json');
    const graphs = fromGraph && !modelFiles.includes(COMBINED) ? [...modelFiles, COMBINED] : modelFiles;
    for (const file of graphs) {
      hashed.push(file);
      if (await fileExists(path.join(root, `${file}_data`))) hashed.push(`${file}_data`);
    }
    const modelHash = await hashModelFiles(root, hashed);

    const openTowers = async (providers: string[]): Promise<{ text: ort.InferenceSession; vision: ort.InferenceSession }> => {
      // modelFiles: the text then the vision tower, or the combined model alone.
      const opened = await openOnnxSessions(root, modelFiles, providers, options.threads);
      const text = opened[0]!;
      return { text, vision: opened[1] ?? text };
    };
    const opened = await openOnProvider(options.provider ?? 'cpu', openTowers);
    const { text, vision } = opened.value;
    const combined = text === vision;
    const release = async () => {
      await text.release();
      if (!combined) await vision.release();
    };
    let sessions: Sessions;
    try {
      sessions = SiglipEncoder.checkSignature(root, text, vision, combined);
    } catch (error) {
      await release();
      throw error;
    }

    const imageBatch = options.batchSize ?? DEFAULT_IMAGE_BATCH;
    const textBatch = options.textBatchSize ?? options.batchSize ?? DEFAULT_TEXT_BATCH;
    if (!(imageBatch >= 1 && textBatch >= 1)) {
      await release();
      throw new PerceiveError('bad-config', 'SigLIP batch sizes must be at least 1');
    }
    const encoder = new SiglipEncoder(
      modelHash,
      root,
      sessions,
      tokenizer,
      preprocessor,
      imageSize,
      logitParams,
      Math.floor(imageBatch),
      Math.floor(textBatch),
    );
    encoder.provider = opened.provider;
    encoder.providerNote = opened.note;
    return encoder;
  }

  /** The inputs fed and outputs read must be there, pixels float32; picks the output names. */
  private static checkSignature(root: string, text: ort.InferenceSession, vision: ort.InferenceSession, combined: boolean): Sessions {
    const check = (session: ort.InferenceSession, file: string, inputs: string[], outputs: string[]): string => {
      const where = path.join(root, file);
      for (const name of inputs) {
        if (!session.inputNames.includes(name))
          throw new PerceiveError('bad-model', `${where} has no input ${name} (inputs: ${session.inputNames.join(', ')})`);
      }
      const unknown = session.inputNames.filter((name) => !['input_ids', 'pixel_values', 'attention_mask'].includes(name));
      if (unknown.length > 0) throw new PerceiveError('bad-model', `${where} wants inputs this encoder does not feed: ${unknown.join(', ')}`);
      const pixels = session.inputMetadata.find((m) => m.name === 'pixel_values');
      if (pixels?.isTensor && pixels.type !== 'float32') {
        throw new PerceiveError('bad-model', `${where}: pixel_values is ${pixels.type}; only float32 exports are supported`);
      }
      const output = outputs.find((name) => session.outputNames.includes(name));
      if (!output) throw new PerceiveError('bad-model', `${where} has none of the outputs ${outputs.join(' / ')} (outputs: ${session.outputNames.join(', ')})`);
      return output;
    };
    if (combined) {
      const textOutput = check(text, COMBINED, ['input_ids', 'pixel_values'], ['text_embeds']);
      const visionOutput = check(vision, COMBINED, ['input_ids', 'pixel_values'], ['image_embeds']);
      return { text, vision, combined, textOutput, visionOutput };
    }
    const textOutput = check(text, SEPARATE.text, ['input_ids'], ['text_embeds', 'pooler_output']);
    const visionOutput = check(vision, SEPARATE.vision, ['pixel_values'], ['image_embeds', 'pooler_output']);
    return { text, vision, combined, textOutput, visionOutput };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SiglipEncoder used after close()');
  }

  /** Texts as input_ids (and an all-ones attention_mask for an export that asks for one). */
  private textFeeds(session: ort.InferenceSession, texts: string[]): Record<string, ort.Tensor> {
    const tokens = this.tokenizer.encodeBatch(texts);
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', tokens.inputIds, tokens.dims) };
    if (session.inputNames.includes('attention_mask')) {
      feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(tokens.inputIds.length).fill(1n), tokens.dims);
    }
    return feeds;
  }

  /** Decodes and preprocesses a batch into one [n, 3, size, size] float32 buffer. */
  private async pixelBatch(images: ImageInput[]): Promise<Float32Array> {
    const size = { height: this.imageSize, width: this.imageSize };
    const plane = 3 * this.imageSize * this.imageSize;
    const out = new Float32Array(images.length * plane);
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

  async encodeImages(images: ImageInput[]): Promise<Float32Array[]> {
    this.assertOpen();
    const { vision, combined, visionOutput } = this.sessions;
    const n = this.imageSize;
    const result: Float32Array[] = [];
    for (const batch of chunks(images, this.imageBatch)) {
      const pixels = await this.pixelBatch(batch);
      const feeds: Record<string, ort.Tensor> = {
        ...(combined ? this.textFeeds(vision, ['']) : {}),
        pixel_values: new ort.Tensor('float32', pixels, [batch.length, 3, n, n]),
      };
      const output = await vision.run(feeds, [visionOutput]);
      result.push(...embeddingRows(output[visionOutput], batch.length, visionOutput, 'SigLIP'));
    }
    return result;
  }

  async encodeTexts(texts: string[]): Promise<Float32Array[]> {
    this.assertOpen();
    const { text, combined, textOutput } = this.sessions;
    const n = this.imageSize;
    const result: Float32Array[] = [];
    for (const batch of chunks(texts, this.textBatch)) {
      const feeds: Record<string, ort.Tensor> = {
        ...(combined ? { pixel_values: new ort.Tensor('float32', new Float32Array(3 * n * n), [1, 3, n, n]) } : {}),
        ...this.textFeeds(text, batch),
      };
      const output = await text.run(feeds, [textOutput]);
      result.push(...embeddingRows(output[textOutput], batch.length, textOutput, 'SigLIP'));
    }
    return result;
  }

  /** Releases the onnxruntime sessions. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sessions.text.release();
    if (!this.sessions.combined) await this.sessions.vision.release();
  }
}
