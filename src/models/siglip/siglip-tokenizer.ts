/**
 * SigLIP / SigLIP2 text tokenisation: tokenizer.json through @huggingface/tokenizers, with what the
 * SigLIP processors do around it:
 *   - lowercase: SiglipTokenizer has do_lower_case; SigLIP2 (Gemma tokenizer) was trained on
 *     lowercased text and Hugging Face's model card asks callers to lowercase;
 *   - for SiglipTokenizer (tokenizer_config.json's tokenizer_class), its canonicalize_text: drop
 *     ASCII punctuation (Python's string.punctuation), collapse whitespace, strip
 *     (huggingface/transformers@095a021d704bd46dca3e42b8fbb47a7535674fec:src/transformers/models/siglip/tokenization_siglip.py);
 *   - truncate to max_length (keeping the special tokens the post-processor adds, </s>) and pad
 *     every row to max_length (64) with the model's pad id: the text tower pools the LAST
 *     position, so the padding is part of the model's input, as padding="max_length" gives it.
 * No attention mask: SigLIP was trained without one and its exports take input_ids only.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { errorMessage, PerceiveError } from '../../core/errors.js';

/** SigLIP's text length (text_config.max_position_embeddings) when config.json does not say. */
export const SIGLIP_CONTEXT_LENGTH = 64;

/** A batch padded to the context length, row-major [batch, contextLength], for an int64 tensor. */
export interface SiglipTokenBatch {
  inputIds: BigInt64Array;
  dims: [batch: number, seqLen: number];
  /** Length of each row before padding. */
  lengths: number[];
}

const TokenSchema = z.union([z.string(), z.looseObject({ content: z.string() })]);
const TokenizerConfigSchema = z.looseObject({
  tokenizer_class: z.string().optional(),
  pad_token: TokenSchema.nullish(),
});
const ConfigSchema = z.looseObject({
  text_config: z
    .looseObject({
      max_position_embeddings: z.number().int().positive().optional(),
      pad_token_id: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

/** Python's string.punctuation, as SiglipTokenizer.remove_punctuation drops it. */
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** SiglipTokenizer.canonicalize_text (keep_punctuation_exact_string=None). */
export function canonicalizeSiglipText(text: string): string {
  return text.replace(ASCII_PUNCTUATION, '').replace(/\s+/g, ' ').trim();
}

export interface SiglipTokenizerOptions {
  /** Parsed tokenizer_config.json ({} when absent). */
  tokenizerConfig?: unknown;
  /** Parsed config.json, for text_config.max_position_embeddings and pad_token_id. */
  config?: unknown;
  /** Names tokenizer.json in errors. */
  source?: string;
}

export class SiglipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Every row is padded (or truncated) to this length. */
    readonly contextLength: number,
    readonly padId: number,
    /** Whether SiglipTokenizer's punctuation stripping applies (SigLIP, not SigLIP2). */
    readonly canonicalize: boolean,
  ) {}

  static fromJson(tokenizerJson: unknown, options: SiglipTokenizerOptions = {}): SiglipTokenizer {
    const source = options.source ?? 'tokenizer.json';
    const tokenizerConfig = TokenizerConfigSchema.safeParse(options.tokenizerConfig ?? {});
    if (!tokenizerConfig.success) {
      const issue = tokenizerConfig.error.issues[0];
      throw new PerceiveError('bad-model', `tokenizer_config.json beside ${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
    }
    const config = ConfigSchema.safeParse(options.config ?? {});
    if (!config.success) {
      const issue = config.error.issues[0];
      throw new PerceiveError('bad-model', `config.json beside ${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson as object, (options.tokenizerConfig ?? {}) as object);
    } catch (error) {
      throw new PerceiveError('bad-model', `${source} is not a tokenizer this library reads: ${errorMessage(error)}`);
    }
    // The pad id: tokenizer_config.json's pad_token, else config.json's text_config.pad_token_id.
    const padToken = tokenizerConfig.data.pad_token;
    const padName = typeof padToken === 'string' ? padToken : padToken?.content;
    let padId = padName === undefined ? undefined : tokenizer.token_to_id(padName);
    if (padName !== undefined && padId === undefined) {
      throw new PerceiveError('bad-model', `${source}: the pad token ${padName} of tokenizer_config.json is not in the vocabulary`);
    }
    padId ??= config.data.text_config?.pad_token_id;
    if (padId === undefined) {
      throw new PerceiveError('bad-model', `${source}: no pad token (tokenizer_config.json pad_token or config.json text_config.pad_token_id)`);
    }
    const contextLength = config.data.text_config?.max_position_embeddings ?? SIGLIP_CONTEXT_LENGTH;
    if (contextLength < 2) throw new PerceiveError('bad-model', `${source}: context length ${contextLength} is too small`);
    return new SiglipTokenizer(tokenizer, contextLength, padId, tokenizerConfig.data.tokenizer_class === 'SiglipTokenizer');
  }

  /** The text the tokenizer sees: lowercased, and canonicalised for SiglipTokenizer. */
  prepare(text: string): string {
    const lower = text.toLowerCase();
    return this.canonicalize ? canonicalizeSiglipText(lower) : lower;
  }

  /**
   * Ids of one text with the tokenizer's special tokens, at most contextLength long. A longer text
   * loses its last content tokens, not the special tokens around them (Hugging Face's truncation).
   */
  encode(text: string): number[] {
    const prepared = this.prepare(text);
    const ids = this.tokenizer.encode(prepared).ids;
    if (ids.length <= this.contextLength) return ids;
    const content = this.tokenizer.encode(prepared, { add_special_tokens: false }).ids;
    // Where the content sits among the special tokens (BOS before, </s> after, …).
    let start = 0;
    while (start + content.length < ids.length && content.some((id: number, i: number) => ids[start + i] !== id)) start++;
    const before = ids.slice(0, start);
    const after = ids.slice(start + content.length);
    return [...before, ...content.slice(0, this.contextLength - before.length - after.length), ...after];
  }

  /** Token strings of a text (specials included, no padding), for debugging and tests. */
  tokens(text: string): string[] {
    return this.encode(text).map((id) => this.tokenizer.id_to_token(id) ?? `<${id}>`);
  }

  /** Every row padded with padId to contextLength (padding="max_length"). */
  encodeBatch(texts: string[]): SiglipTokenBatch {
    const seqLen = this.contextLength;
    const rows = texts.map((text) => this.encode(text));
    const inputIds = new BigInt64Array(rows.length * seqLen).fill(BigInt(this.padId));
    rows.forEach((row, r) => {
      row.forEach((id, i) => {
        inputIds[r * seqLen + i] = BigInt(id);
      });
    });
    return { inputIds, dims: [rows.length, seqLen], lengths: rows.map((row) => row.length) };
  }
}
