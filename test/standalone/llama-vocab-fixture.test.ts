import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLAMA_VOCAB_IDS, loadLlamaTokenizerJs, llamaVocabFrom, type LlamaTokenizerJs } from '../../src/fixtures/llama-vocab.js';
import { buildShapeLlavaText } from '../../src/fixtures/shape-llava.js';
import { TokenType, type FixtureVocab, writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { LLAVA_IMAGE_TOKEN, llavaTokenizerImageToken } from '../support/llava-image-tokens.js';

/**
 * llama.cpp's SPM tokenizer (src/llama-vocab.cpp, llm_tokenizer_spm_session) on one escaped text:
 * start from UTF-8 characters, repeatedly merge the adjacent pair whose concatenation is a piece
 * with the highest score (ties: the leftmost), then map each symbol to its piece or its bytes.
 * Enough of it to check that the scores written into the GGUF reproduce llama-tokenizer-js's merges.
 */
function spmByScore(vocab: FixtureVocab, index: Map<string, number>, text: string): number[] {
  const symbols = Array.from(text);
  for (;;) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const id = index.get(symbols[i]! + symbols[i + 1]!);
      if (id !== undefined && vocab.scores[id]! > bestScore) {
        best = i;
        bestScore = vocab.scores[id]!;
      }
    }
    if (best < 0) break;
    symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!);
  }
  return symbols.flatMap((s) => {
    const id = index.get(s);
    if (id !== undefined) return [id];
    return [...Buffer.from(s, 'utf8')].map((b) => index.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)!);
  });
}

const SAMPLES = [
  'Hello world!',
  " USER: \nIs the mug to the left or to the right of the plate? (a) Left (b) Right\nAnswer with the option's letter from the given choices directly. ASSISTANT:",
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: ",
  ' Represent the given image with the following question: Is the dog under the table?',
  'Does this figure show "a dog  to the left of  a cat"? Please answer yes or no. ASSISTANT: Yes',
  "Are the butterfly's wings closer to being open or closed? (a) Open (b) Closed",
  'Is the hand pointing at "0" or "80"? 12345 \t tabs   and    runs of spaces',
  'naïve café — 日本語 🙂 Ünïcödé',
];

let tokenizer: LlamaTokenizerJs;
let vocab: FixtureVocab;
let dir: string;

beforeAll(async () => {
  tokenizer = await loadLlamaTokenizerJs();
  vocab = llamaVocabFrom(tokenizer);
  dir = await mkdtemp(join(tmpdir(), 'perceive-llama-vocab-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the LLaMA vocabulary from llama-tokenizer-js', () => {
  it('has the real ids and llama.cpp token types', () => {
    expect(vocab.tokens).toHaveLength(32000);
    const id = (piece: string) => vocab.tokens.indexOf(piece);
    expect(id('▁Yes')).toBe(3869);
    expect(id('▁No')).toBe(1939);
    expect(id('</s>')).toBe(2);
    expect(id('▁')).toBe(29871);
    expect(id('<0x0A>')).toBe(13);
    expect(id('▁(')).toBe(313);
    expect(id('▁A')).toBe(319);
    expect(LLAMA_VOCAB_IDS).toMatchObject({ yes: 3869, no: 1939, eos: 2, space: 29871, newline: 13 });
    expect(vocab.types.slice(0, 4)).toEqual([TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.BYTE]);
    expect(vocab.types.slice(3, 259).every((t) => t === TokenType.BYTE)).toBe(true);
    expect(vocab.types.slice(259).every((t) => t === TokenType.NORMAL)).toBe(true);
    expect(vocab.types[13]).toBe(TokenType.BYTE);
  });

  it('scores follow the merge order: ▁t first (0), the whitespace runs ▁▁ last of the merges, single characters below every merge', () => {
    const id = (piece: string) => vocab.tokens.indexOf(piece);
    expect(vocab.scores[id('▁t')]).toBe(0);
    expect(vocab.scores[id('er')]).toBe(-1);
    expect(vocab.scores[id('▁▁')]).toBe(-61248); // the last of the 61,249 merges
    expect(vocab.scores[id('▁')]).toBeLessThan(-61248);
    expect(vocab.scores.slice(0, 259).every((s) => s === 0)).toBe(true);
    // every merge's result scores at least as high as the results of later merges
    expect(new Set(vocab.scores.slice(259)).size).toBe(32000 - 259);
  });

  it("merging by these scores (llama.cpp SPM) gives llama-tokenizer-js's tokens", () => {
    const index = new Map(vocab.tokens.map((t, i) => [t, i]));
    for (const text of SAMPLES) {
      const escaped = ` ${text}`.replaceAll(' ', '▁');
      expect(spmByScore(vocab, index, escaped), text).toEqual(tokenizer.encode(text, false, true));
    }
  });

  it('tokenizer_image_token (LLaVA): <s> once, the image index between chunks, each chunk with its dummy-prefix ▁', () => {
    const ids = llavaTokenizerImageToken(tokenizer, 'USER: <image>\nWhat is it? ASSISTANT:');
    expect(ids.slice(0, 5)).toEqual([1, 3148, 1001, 29901, 29871]); // <s> ▁US ER : ▁
    expect(ids[5]).toBe(LLAVA_IMAGE_TOKEN);
    expect(ids.slice(6, 8)).toEqual([29871, 13]); // the chunk after the image keeps its ▁, then \n
    expect(llavaTokenizerImageToken(tokenizer, '<image> Represent the given image.').slice(0, 4)).toEqual([1, LLAVA_IMAGE_TOKEN, 29871, 16314]);
  });
});

describe('writeTinyLlava with vocab llama', () => {
  it("writes LLaMA's tokenizer into the GGUF: model llama, 32,000 pieces, scores, types, BOS 1 / EOS 2 / UNK 0, add_space_prefix; byte-identical for a seed", async () => {
    const a = await writeTinyLlava(join(dir, 'a'), { seed: 5, vocab: 'llama' });
    const b = await writeTinyLlava(join(dir, 'b'), { seed: 5, vocab: 'llama' });
    const sha = async (f: string) =>
      createHash('sha256')
        .update(await readFile(f))
        .digest('hex');
    expect(await sha(a.model)).toBe(await sha(b.model));
    const info = await readGgufFileInfo(a.model, { logWarnings: false, readTensorInfo: true });
    const t = (info.metadata as unknown as { tokenizer: { ggml: Record<string, unknown> } }).tokenizer.ggml;
    expect(t.model).toBe('llama');
    expect((t.tokens as string[]).length).toBe(32000);
    expect((t.tokens as string[])[3869]).toBe('▁Yes');
    expect((t.token_type as number[]).slice(0, 4)).toEqual([2, 3, 3, 6]);
    expect((t.scores as number[])[1939]).toBe(vocab.scores[1939]);
    expect(t.bos_token_id).toBe(1);
    expect(t.eos_token_id).toBe(2);
    expect(t.unknown_token_id).toBe(0);
    expect(t.add_space_prefix).toBe(true);
    expect(t.add_bos_token).toBe(true);
    const embd = info.tensorInfo!.find((x) => x.name === 'token_embd.weight')!;
    expect(embd.dimensions.map(Number)).toEqual([64, 32000]);
  });
});

describe('LLaVA-1.5-7B shape model with vocab llama', () => {
  it("the text GGUF carries LLaMA's 32,000 pieces (no padding) at 4096 wide", async () => {
    // header only (metadata and tensor infos): the F16 file is ~730 MB even at one layer
    const file = join(dir, 'shape-header.gguf');
    await writeFile(file, (await buildShapeLlavaText(0, 1, { vocab: 'llama' })).headerBuffer());
    const info = await readGgufFileInfo(file, { logWarnings: false, readTensorInfo: true });
    const m = info.metadata as unknown as { llama: Record<string, unknown>; tokenizer: { ggml: Record<string, unknown> } };
    expect(m.llama).toMatchObject({ embedding_length: 4096, vocab_size: 32000 });
    const tokens = m.tokenizer.ggml.tokens as string[];
    expect(tokens).toHaveLength(32000);
    expect([tokens[3869], tokens[1939], tokens[2], tokens[29871], tokens[13]]).toEqual(['▁Yes', '▁No', '</s>', '▁', '<0x0A>']);
    expect(tokens.some((t) => t.startsWith('<unused'))).toBe(false);
    expect(m.tokenizer.ggml.add_space_prefix).toBe(true);
    expect(info.fullTensorInfo!.find((x) => x.name === 'token_embd.weight')!.dimensions.map(Number)).toEqual([4096, 32000]);
  });
});
