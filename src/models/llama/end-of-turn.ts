import { PerceiveError, errorMessage } from '../../core/errors.js';

/**
 * The token a model ends its turn with, decided as llama.cpp decides its EOT token
 * (ggml-org/llama.cpp@de3ff815ea7d559ee917f063901b8986f038abc6:src/llama-vocab.cpp, `llama_vocab::impl::load`,
 * "special tokens" and "auto-detect special tokens by text"):
 * 1. `tokenizer.ggml.eot_token_id` when the GGUF carries it (and it is in the vocabulary);
 * 2. else a token whose text is one of llama.cpp's end-of-turn texts (`<|im_end|>`, `<end_of_turn>`, …);
 *    llama.cpp takes the first it meets in a hash map, this takes the first in the list's order;
 * 3. else `tokenizer.ggml.eos_token_id` (LLaVA-1.5: `</s>`), which llama.cpp also ends generation on.
 * A model with none of these fails with code `no-end-of-turn`.
 */
export interface EndOfTurn {
  id: number;
  /** the token's text as the vocabulary spells it, e.g. `<|im_end|>` */
  text: string;
  /** where the id came from */
  source: 'eot_token_id' | 'token text' | 'eos_token_id';
}

/** llama.cpp's end-of-turn texts, in its order (llama-vocab.cpp, "find EOT token"). */
export const EOT_TEXTS = [
  '<|eot_id|>',
  '<|im_end|>',
  '<|end|>',
  '<end_of_turn>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<EOT>',
  '_<EOT>',
  '[EOT]',
  '<｜end▁of▁sentence｜>',
  '<end_of_utterance>',
] as const;

/** The GGUF tokenizer fields the decision reads. */
export interface TokenizerFields {
  tokens: readonly string[];
  eotTokenId?: number | undefined;
  eosTokenId?: number | undefined;
}

function inVocab(id: number | undefined, tokens: readonly string[]): id is number {
  return id !== undefined && Number.isInteger(id) && id >= 0 && id < tokens.length;
}

/** The end-of-turn token from a GGUF's tokenizer fields; `file` names the model in the error. */
export function endOfTurnFrom(fields: TokenizerFields, file: string): EndOfTurn {
  const { tokens } = fields;
  if (inVocab(fields.eotTokenId, tokens)) return { id: fields.eotTokenId, text: tokens[fields.eotTokenId]!, source: 'eot_token_id' };
  for (const text of EOT_TEXTS) {
    const id = tokens.indexOf(text);
    if (id >= 0) return { id, text, source: 'token text' };
  }
  if (inVocab(fields.eosTokenId, tokens)) return { id: fields.eosTokenId, text: tokens[fields.eosTokenId]!, source: 'eos_token_id' };
  throw new PerceiveError(
    'no-end-of-turn',
    `${file}: the model has no end-of-turn token (no tokenizer.ggml.eot_token_id, no ${EOT_TEXTS.slice(0, 4).join(' / ')}… token, no tokenizer.ggml.eos_token_id)`,
    { hint: 'use prompt_format: llava-v1, or a GGUF whose tokenizer declares its end-of-turn or end-of-sequence token' },
  );
}

function idField(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** Reads the end-of-turn token of a GGUF text model (metadata only, never the weights). */
export async function readEndOfTurn(file: string): Promise<EndOfTurn> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  let ggml: Record<string, unknown>;
  try {
    const info = await readGgufFileInfo(file, { logWarnings: false, readTensorInfo: false });
    const tokenizer = (info.metadata as unknown as { tokenizer?: { ggml?: Record<string, unknown> } }).tokenizer;
    ggml = tokenizer?.ggml ?? {};
  } catch (error) {
    throw new PerceiveError('bad-gguf', `cannot read GGUF metadata of ${file}: ${errorMessage(error)}`);
  }
  const tokens = Array.isArray(ggml.tokens) && ggml.tokens.every((t) => typeof t === 'string') ? (ggml.tokens as string[]) : [];
  return endOfTurnFrom({ tokens, eotTokenId: idField(ggml.eot_token_id), eosTokenId: idField(ggml.eos_token_id) }, file);
}
