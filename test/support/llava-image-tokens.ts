import type { LlamaTokenizerJs } from '../../src/fixtures/llama-vocab.js';

/** LLaVA's IMAGE_TOKEN_INDEX (haotian-liu/LLaVA llava/constants.py): where an image's tokens go. */
export const LLAVA_IMAGE_TOKEN = -200;
export const LLAVA_IMAGE_PLACEHOLDER = '<image>';

/**
 * `tokenizer(chunk).input_ids` of LLaVA-1.5's tokenizer: transformers' slow LlamaTokenizer with
 * `legacy=True` (LLaVA loads it with use_fast=False on transformers 4.31): `<s>` then
 * `sp_model.encode(chunk)`, which always puts SentencePiece's dummy prefix "▁" in front of the
 * chunk (LLaMA's normalizer: add_dummy_prefix, no whitespace folding). An empty chunk is `<s>` alone.
 * llama-tokenizer-js's encode(text, true, true) is that encoding (BOS, preceding space, BPE merges).
 */
export function legacyLlamaInputIds(tokenizer: LlamaTokenizerJs, chunk: string): number[] {
  return chunk.length === 0 ? [1] : tokenizer.encode(chunk, true, true);
}

/**
 * LLaVA's `tokenizer_image_token` (haotian-liu/LLaVA@c121f04:llava/mm_utils.py): split the prompt at
 * `<image>`, tokenize each chunk as above, keep the first chunk's `<s>` and drop every other
 * chunk's, and put LLAVA_IMAGE_TOKEN between chunks.
 */
export function llavaTokenizerImageToken(tokenizer: LlamaTokenizerJs, prompt: string): number[] {
  const chunks = prompt.split(LLAVA_IMAGE_PLACEHOLDER).map((c) => legacyLlamaInputIds(tokenizer, c));
  const out: number[] = [];
  let offset = 0;
  if (chunks.length > 0 && chunks[0]!.length > 0 && chunks[0]![0] === 1) {
    offset = 1;
    out.push(1);
  }
  chunks.forEach((ids, k) => {
    if (k > 0) out.push(...Array.from({ length: offset + 1 }, () => LLAVA_IMAGE_TOKEN).slice(offset));
    out.push(...ids.slice(offset));
  });
  return out;
}

/** The text chunks of a token sequence, split where images are (LLAVA_IMAGE_TOKEN, or -1 runs of llama-server). */
export function textChunks(ids: number[], isImage: (id: number) => boolean): number[][] {
  const chunks: number[][] = [[]];
  let inImage = false;
  for (const id of ids) {
    if (isImage(id)) {
      if (!inImage) chunks.push([]);
      inImage = true;
    } else {
      inImage = false;
      chunks[chunks.length - 1]!.push(id);
    }
  }
  return chunks;
}
