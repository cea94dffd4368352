import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { ClipTokenizer } from '../../src/models/clip/clip-tokenizer.js';

let tmp: string;
let dir: string;
let tokenizer: ClipTokenizer;
let vocab: Record<string, number>;

const id = (token: string): number => {
  const value = vocab[token];
  if (value === undefined) throw new Error(`no token ${token}`);
  return value;
};

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-tokenizer-'));
  ({ dir } = await writeTinyClip(path.join(tmp, 'tiny-clip'), { seed: 1 }));
  tokenizer = await ClipTokenizer.load(dir);
  const json = JSON.parse(await fs.readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
  };
  vocab = json.model.vocab;
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ClipTokenizer on the tiny CLIP tokenizer.json', () => {
  it('uses CLIP’s ids: bytes first, `</w>` forms next, EOS the largest id', () => {
    expect(id('!')).toBe(0);
    expect(id('a</w>')).toBe(320); // as in the real CLIP vocabulary
    expect(id('!</w>')).toBe(256);
    expect(tokenizer.eosId).toBe(Math.max(...Object.values(vocab)));
    expect(tokenizer.bosId).toBe(tokenizer.eosId - 1);
    expect(tokenizer.contextLength).toBe(77); // from config.json text_config.max_position_embeddings
  });

  it('encodes a benchmark caption as BOS, one token per word, EOS', () => {
    const words = 'a mug to the left of a plate'.split(' ');
    expect(tokenizer.encode('a mug to the left of a plate')).toEqual([tokenizer.bosId, ...words.map((w) => id(`${w}</w>`)), tokenizer.eosId]);
    expect(tokenizer.tokens('a mug to the left of a plate')).toEqual([
      '<|startoftext|>',
      'a</w>',
      'mug</w>',
      'to</w>',
      'the</w>',
      'left</w>',
      'of</w>',
      'a</w>',
      'plate</w>',
      '<|endoftext|>',
    ]);
  });

  it('makes every common benchmark word a single token', () => {
    const words = [
      'a',
      'an',
      'the',
      'of',
      'to',
      'left',
      'right',
      'on',
      'under',
      'in',
      'front',
      'behind',
      'mug',
      'plate',
      'cup',
      'book',
      'ball',
      'box',
      'dog',
      'cat',
      'table',
      'chair',
      'photo',
      'is',
      'and',
      'yes',
      'no',
      'red',
      'blue',
      'green',
    ];
    for (const word of words) {
      expect(tokenizer.encode(word), word).toEqual([tokenizer.bosId, id(`${word}</w>`), tokenizer.eosId]);
    }
  });

  it('lowercases and collapses whitespace (NFC + Replace + Lowercase normaliser)', () => {
    expect(tokenizer.encode('A  MUG\tTo The\nLEFT')).toEqual(tokenizer.encode('a mug to the left'));
    expect(tokenizer.encode('Dog!')).toEqual([tokenizer.bosId, id('dog</w>'), id('!</w>'), tokenizer.eosId]);
  });

  it('falls back to byte-level tokens for unknown words and characters', () => {
    // 'é' is UTF-8 C3 A9, shown by byte-level BPE as 'Ã' '©'.
    expect(tokenizer.tokens('é')).toEqual(['<|startoftext|>', 'Ã', '©</w>', '<|endoftext|>']);
    expect(tokenizer.tokens('zq')).toEqual(['<|startoftext|>', 'z', 'q</w>', '<|endoftext|>']);
  });

  it('encodes an empty text as BOS, EOS', () => {
    expect(tokenizer.encode('')).toEqual([tokenizer.bosId, tokenizer.eosId]);
  });

  it('pads a batch to its longest row with the EOS id', () => {
    const batch = tokenizer.encodeBatch(['a dog', 'a mug to the left of a plate']);
    expect(batch.dims).toEqual([2, 10]);
    expect(batch.lengths).toEqual([4, 10]);
    const eos = BigInt(tokenizer.eosId);
    const row0 = Array.from(batch.inputIds.subarray(0, 10));
    expect(row0).toEqual([BigInt(tokenizer.bosId), BigInt(id('a</w>')), BigInt(id('dog</w>')), eos, eos, eos, eos, eos, eos, eos]);
    expect(Array.from(batch.inputIds.subarray(10, 20))).toEqual(tokenizer.encode('a mug to the left of a plate').map(BigInt));
    expect(Array.from(batch.attentionMask.subarray(0, 10))).toEqual([1n, 1n, 1n, 1n, 0n, 0n, 0n, 0n, 0n, 0n]);
    expect(Array.from(batch.attentionMask.subarray(10, 20))).toEqual(Array(10).fill(1n));
  });

  it('truncates to 77 tokens keeping BOS first and EOS last', () => {
    const long = Array.from({ length: 120 }, (_, i) => (i % 2 ? 'mug' : 'plate')).join(' ');
    const ids = tokenizer.encode(long);
    expect(ids).toHaveLength(77);
    expect(ids[0]).toBe(tokenizer.bosId);
    expect(ids[76]).toBe(tokenizer.eosId);
    expect(ids.slice(1, 76)).toEqual(Array.from({ length: 75 }, (_, i) => id(i % 2 ? 'mug</w>' : 'plate</w>')));
    const batch = tokenizer.encodeBatch(['a dog', long]);
    expect(batch.dims).toEqual([2, 77]);
    expect(batch.inputIds[2 * 77 - 1]).toBe(BigInt(tokenizer.eosId));
  });

  it('takes a smaller context length when asked', async () => {
    const short = await ClipTokenizer.load(dir, { contextLength: 5 });
    expect(short.encode('a mug to the left of a plate')).toEqual([short.bosId, id('a</w>'), id('mug</w>'), id('to</w>'), short.eosId]);
  });

  it('fails with a PerceiveError naming tokenizer.json when it is missing', async () => {
    const error = await ClipTokenizer.load(path.join(tmp, 'nowhere')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PerceiveError);
    expect((error as PerceiveError).message).toContain('tokenizer.json');
  });
});
