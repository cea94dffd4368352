/**
 * CLIP text tokenisation: tokenizer.json through @huggingface/tokenizers, then what that library
 * leaves to the caller: truncation to the model's context length (keeping <|endoftext|> last, as
 * Hugging Face and open_clip truncate) and padding a batch with the EOS id.
 *
 * Padding with EOS is safe for CLIP: the text tower pools at the FIRST EOS (ArgMax over input_ids,
 * EOS being the largest id) and its causal mask keeps later positions out of that token's state.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { errorMessage, PerceiveError } from '../../core/errors.js';

export const CLIP_BOS = '<|startoftext|>';
export const CLIP_EOS = '<|endoftext|>';
/** CLIP's context length when config.json does not say. */
export const DEFAULT_CONTEXT_LENGTH = 77;

/** A padded batch, row-major [batch, seqLen], ready for an int64 ONNX tensor. */
export interface TokenBatch {
  inputIds: BigInt64Array;
  /** 1 for real tokens (BOS … EOS), 0 for padding; for exports that take attention_mask. */
  attentionMask: BigInt64Array;
  dims: [batch: number, seqLen: number];
  /** Unpadded length of each row. */
  lengths: number[];
}

const ContextConfigSchema = z.looseObject({
  text_config: z.looseObject({ max_position_embeddings: z.number().int().positive().optional() }).optional(),
});

/** text_config.max_position_embeddings from a parsed config.json, or 77. */
export function contextLengthFromConfig(config: unknown): number {
  const parsed = ContextConfigSchema.safeParse(config);
  return (parsed.success ? parsed.data.text_config?.max_position_embeddings : undefined) ?? DEFAULT_CONTEXT_LENGTH;
}

async function readJson(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PerceiveError('bad-model', `cannot read ${file}: ${errorMessage(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PerceiveError('bad-model', `${file} is not valid JSON: ${errorMessage(error)}`);
  }
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;

  private constructor(
    private readonly tokenizer: Tokenizer,
    /** The longest row, BOS and EOS included. */
    readonly contextLength: number,
    source: string,
  ) {
    const bos = tokenizer.token_to_id(CLIP_BOS);
    const eos = tokenizer.token_to_id(CLIP_EOS);
    if (bos === undefined || eos === undefined) {
      throw new PerceiveError('bad-model', `${source} has no ${CLIP_BOS} / ${CLIP_EOS} tokens: not a CLIP tokenizer`);
    }
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new PerceiveError('bad-model', `${source}: context length ${contextLength} is too small`);
    }
    this.bosId = bos;
    this.eosId = eos;
  }

  /**
   * Loads `tokenizer.json` (and `tokenizer_config.json` if present) from a model folder. The
   * context length is `options.contextLength`, else config.json's text_config.max_position_embeddings,
   * else 77.
   */
  static async load(dir: string, options: { contextLength?: number } = {}): Promise<ClipTokenizer> {
    const file = path.join(dir, 'tokenizer.json');
    const tokenizerJson = await readJson(file, true);
    const tokenizerConfig = (await readJson(path.join(dir, 'tokenizer_config.json'), false)) ?? {};
    const contextLength = options.contextLength ?? contextLengthFromConfig(await readJson(path.join(dir, 'config.json'), false));
    return ClipTokenizer.fromJson(tokenizerJson, { contextLength, tokenizerConfig, source: file });
  }

  static fromJson(tokenizerJson: unknown, options: { contextLength?: number; tokenizerConfig?: unknown; source?: string } = {}): ClipTokenizer {
    const source = options.source ?? 'tokenizer.json';
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson as object, (options.tokenizerConfig ?? {}) as object);
    } catch (error) {
      throw new PerceiveError('bad-model', `${source} is not a tokenizer this library reads: ${errorMessage(error)}`);
    }
    return new ClipTokenizer(tokenizer, options.contextLength ?? DEFAULT_CONTEXT_LENGTH, source);
  }

  /** Ids of one text: BOS, tokens, EOS; at most contextLength long, and always ending with EOS. */
  encode(text: string): number[] {
    let ids = this.tokenizer.encode(text).ids;
    // tokenizer.json's post-processor adds BOS/EOS; make sure of it for files without one.
    if (ids[0] !== this.bosId) ids = [this.bosId, ...ids];
    if (ids[ids.length - 1] !== this.eosId) ids = [...ids, this.eosId];
    if (ids.length > this.contextLength) ids = [...ids.slice(0, this.contextLength - 1), this.eosId];
    return ids;
  }

  /** Token strings of a text (BOS and EOS included), for debugging and tests. */
  tokens(text: string): string[] {
    return this.encode(text).map((id) => this.tokenizer.id_to_token(id) ?? `<${id}>`);
  }

  /** A batch padded with EOS to its longest row (at most contextLength). */
  encodeBatch(texts: string[]): TokenBatch {
    const rows = texts.map((text) => this.encode(text));
    const seqLen = Math.max(1, ...rows.map((row) => row.length));
    const inputIds = new BigInt64Array(rows.length * seqLen).fill(BigInt(this.eosId));
    const attentionMask = new BigInt64Array(rows.length * seqLen);
    rows.forEach((row, r) => {
      row.forEach((id, i) => {
        inputIds[r * seqLen + i] = BigInt(id);
        attentionMask[r * seqLen + i] = 1n;
      });
    });
    return { inputIds, attentionMask, dims: [rows.length, seqLen], lengths: rows.map((row) => row.length) };
  }
}
