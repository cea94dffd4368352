import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { writeTinySiglip } from '../../src/fixtures/tiny-siglip.js';
import { canonicalizeSiglipText, SiglipTokenizer } from '../../src/models/siglip/siglip-tokenizer.js';

let tmp: string;
let tokenizerJson: unknown;
let tokenizerConfig: Record<string, unknown>;
let config: Record<string, unknown>;
let tok: SiglipTokenizer;

const ids = (batch: { inputIds: BigInt64Array }, row: number, seqLen: number) => Array.from(batch.inputIds.subarray(row * seqLen, (row + 1) * seqLen), Number);

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'siglip-tokenizer-'));
  const { dir } = await writeTinySiglip(path.join(tmp, 'tiny'), { seed: 3 });
  const read = async (name: string) => JSON.parse(await fs.readFile(path.join(dir, name), 'utf8'));
  tokenizerJson = await read('tokenizer.json');
  tokenizerConfig = await read('tokenizer_config.json');
  config = await read('config.json');
  tok = SiglipTokenizer.fromJson(tokenizerJson, { tokenizerConfig, config });
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('SiglipTokenizer (the tiny SigLIP: <pad> 0, </s> 1, <unk> 2, ▁ 3, ▁a 40, ▁photo 78, ▁of 43, ▁dog 96)', () => {
  it('gives the ids of known strings, </s> last', () => {
    expect(tok.tokens('a photo of a dog')).toEqual(['▁a', '▁photo', '▁of', '▁a', '▁dog', '</s>']);
    expect(tok.encode('a photo of a dog')).toEqual([40, 78, 43, 40, 96, 1]);
    expect(tok.encode('')).toEqual([1]);
  });

  it('lowercases, and strips punctuation and extra spaces as SiglipTokenizer.canonicalize_text', () => {
    expect(tok.encode('A Photo of a DOG.')).toEqual([40, 78, 43, 40, 96, 1]);
    expect(tok.encode('  a   photo, of "a" dog!?  ')).toEqual([40, 78, 43, 40, 96, 1]);
    expect(canonicalizeSiglipText(" it's a (red)  cup. ")).toBe('its a red cup');
    // Without the lowercasing, capitals are not in the vocabulary: <unk>.
    expect(tok.prepare('A DOG.')).toBe('a dog');
  });

  it('spells out unknown lowercase words and maps other characters to <unk>', () => {
    expect(tok.tokens('a zebu')).toEqual(['▁a', '▁', 'z', 'e', 'b', 'u', '</s>']);
    expect(tok.encode('a é')).toEqual([40, 3, 2, 1]); // ▁ is 3
  });

  it('pads every row to max_length 64 with the pad id (</s> = 1), no attention mask', () => {
    expect(tok.padId).toBe(1);
    expect(tok.contextLength).toBe(64);
    const batch = tok.encodeBatch(['a dog', 'a photo of a dog']);
    expect(batch.dims).toEqual([2, 64]);
    expect(batch.lengths).toEqual([3, 6]);
    expect(batch).not.toHaveProperty('attentionMask');
    expect(ids(batch, 0, 64)).toEqual([40, 96, ...Array(62).fill(1)]);
    expect(ids(batch, 1, 64)).toEqual([40, 78, 43, 40, 96, ...Array(59).fill(1)]);
    // A row alone is the same row in a batch: padding never depends on the other texts.
    expect(ids(tok.encodeBatch(['a dog']), 0, 64)).toEqual(ids(batch, 0, 64));
  });

  it('truncates a long text to 64, keeping </s> last', () => {
    const row = tok.encode('a dog '.repeat(40));
    expect(row).toHaveLength(64);
    expect(row.slice(0, 4)).toEqual([40, 96, 40, 96]);
    expect(row[63]).toBe(1);
    expect(row.slice(0, 63).every((id) => id !== 1)).toBe(true);
  });

  it('takes the pad id from config.json when tokenizer_config.json has no pad token, the length from max_position_embeddings', () => {
    const textConfig = config.text_config as Record<string, unknown>;
    const t = SiglipTokenizer.fromJson(tokenizerJson, {
      tokenizerConfig: {},
      config: { ...config, text_config: { ...textConfig, pad_token_id: 0, max_position_embeddings: 16 } },
    });
    expect(t.padId).toBe(0);
    expect(Array.from(t.encodeBatch(['a dog']).inputIds, Number)).toEqual([40, 96, 1, ...Array(13).fill(0)]);
    // No SiglipTokenizer class: no punctuation stripping (SigLIP2's Gemma tokenizer), but lowercase.
    expect(t.canonicalize).toBe(false);
    expect(t.encode('A dog.')).toEqual([40, 96, 2, 1]);
  });

  it('rejects a pad token outside the vocabulary, and a folder with no pad token at all', () => {
    const bad = () =>
      SiglipTokenizer.fromJson(tokenizerJson, { tokenizerConfig: { ...tokenizerConfig, pad_token: '<nope>' }, config, source: '/m/tokenizer.json' });
    expect(bad).toThrow(PerceiveError);
    expect(bad).toThrow('/m/tokenizer.json: the pad token <nope> of tokenizer_config.json is not in the vocabulary');
    const textConfig = { ...(config.text_config as Record<string, unknown>) };
    delete textConfig.pad_token_id;
    expect(() => SiglipTokenizer.fromJson(tokenizerJson, { tokenizerConfig: {}, config: { ...config, text_config: textConfig } })).toThrow('no pad token');
    expect(() => SiglipTokenizer.fromJson({ model: { type: 'nonsense' } }, { tokenizerConfig })).toThrow(PerceiveError);
  });
});
