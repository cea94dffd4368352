import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GgufWriter, f16BitsToF32, f32ToF16Bits } from '../../src/fixtures/gguf-writer.js';
import { TINY_LLAVA, buildTinyVocab, writeTinyLlava } from '../../src/fixtures/tiny-llava.js';

type Info = Awaited<ReturnType<typeof readGgufFileInfo>>;

/** Metadata as a flat record keyed by the dotted GGUF key. */
function flatMetadata(info: Info): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (obj: unknown, prefix: string) => {
    if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
      for (const [k, v] of Object.entries(obj)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else {
      out[prefix] = obj;
    }
  };
  walk(info.metadata, '');
  return out;
}

function tensorShapes(info: Info): Record<string, { dims: number[]; type: number }> {
  const out: Record<string, { dims: number[]; type: number }> = {};
  for (const t of info.tensorInfo ?? []) out[t.name] = { dims: t.dimensions.map(Number), type: Number(t.ggmlType) };
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let paths: { model: string; mmproj: string };
let textInfo: Info;
let clipInfo: Info;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'perceive-gguf-'));
  paths = await writeTinyLlava(join(dir, 'a'), { seed: 1234 });
  textInfo = await readGgufFileInfo(paths.model, { logWarnings: false });
  clipInfo = await readGgufFileInfo(paths.mmproj, { logWarnings: false });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('f32ToF16Bits', () => {
  it('converts known values exactly', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(0)).toBe(0x0000);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(0.5)).toBe(0x3800);
    expect(f32ToF16Bits(0.1)).toBe(0x2e66);
    expect(f32ToF16Bits(2 ** -14)).toBe(0x0400); // smallest normal
  });

  it('handles subnormals with round-to-nearest-even', () => {
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f32ToF16Bits(-(2 ** -24))).toBe(0x8001);
    expect(f32ToF16Bits(1023 * 2 ** -24)).toBe(0x03ff); // largest subnormal
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie → even (0)
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 → even (2)
    expect(f32ToF16Bits(0.75 * 2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(2 ** -26)).toBe(0x0000);
    expect(f32ToF16Bits(1e-10)).toBe(0x0000);
  });

  it('rounds to nearest even in the normal range and overflows to infinity', () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds past the max → +inf
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    const nan = f32ToF16Bits(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x03ff).not.toBe(0);
  });

  it('round-trips every finite half value', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // inf/nan
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
  });
});

describe('GgufWriter', () => {
  it('writes metadata of every kind and F16/F32 tensors that node-llama-cpp reads back', async () => {
    const w = new GgufWriter();
    w.addString('general.architecture', 'llama');
    w.addString('test.str', 'héllo ▁wörld');
    w.addU32('test.u32', 4000000000);
    w.addI32('test.i32', -7);
    w.addF32('test.f32', 0.25);
    w.addBool('test.true', true);
    w.addBool('test.false', false);
    w.addArray('test.strs', 'string', ['a', '', '<0x0A>', '▁Yes']);
    w.addArray('test.f32s', 'f32', [1.5, -2, 0]);
    w.addArray('test.i32s', 'i32', [-1, 0, 2147483647]);
    w.addArray('test.u32s', 'u32', [0, 4294967295]);
    const half = new Float32Array([1, -2, 65504, 2 ** -24, 0.1]);
    w.addTensor('t.half', [5], half, 'F16');
    w.addTensor('t.full', [3, 2], new Float32Array([1, 2, 3, 4, 5, 6]));
    w.addTensor('t.one', [1], new Float32Array([7]));
    const path = join(dir, 'kinds.gguf');
    await w.write(path);
    const bytes = await readFile(path);
    expect(bytes.equals(w.toBuffer())).toBe(true);
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('GGUF');
    expect(bytes.readUInt32LE(4)).toBe(3);
    expect(bytes.readBigUInt64LE(8)).toBe(3n); // tensors
    expect(bytes.readBigUInt64LE(16)).toBe(12n); // kvs, general.alignment included

    const info = await readGgufFileInfo(path, { logWarnings: false });
    const md = flatMetadata(info);
    expect(info.version).toBe(3);
    expect(md['general.alignment']).toBe(32);
    expect(md['test.str']).toBe('héllo ▁wörld');
    expect(md['test.u32']).toBe(4000000000);
    expect(md['test.i32']).toBe(-7);
    expect(md['test.f32']).toBe(0.25);
    expect(md['test.true']).toBe(true);
    expect(md['test.false']).toBe(false);
    expect(md['test.strs']).toEqual(['a', '', '<0x0A>', '▁Yes']);
    expect(md['test.f32s']).toEqual([1.5, -2, 0]);
    expect(md['test.i32s']).toEqual([-1, 0, 2147483647]);
    expect(md['test.u32s']).toEqual([0, 4294967295]);

    const tensors = info.tensorInfo ?? [];
    expect(tensors.map((t) => t.name)).toEqual(['t.half', 't.full', 't.one']);
    expect(tensors.map((t) => t.dimensions.map(Number))).toEqual([[5], [3, 2], [1]]);
    expect(tensors.map((t) => Number(t.ggmlType))).toEqual([1, 0, 0]);
    for (const t of tensors) expect(Number(t.fileOffset) % 32).toBe(0);
    expect(tensors.map((t) => Number(t.offset))).toEqual([0, 32, 64]);

    const h = Number(tensors[0]!.fileOffset);
    expect([0, 1, 2, 3, 4].map((i) => bytes.readUInt16LE(h + 2 * i))).toEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0x2e66]);
    const f = Number(tensors[1]!.fileOffset);
    expect([0, 1, 2, 3, 4, 5].map((i) => bytes.readFloatLE(f + 4 * i))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bytes.readFloatLE(Number(tensors[2]!.fileOffset))).toBe(7);
    expect(bytes.length % 32).toBe(0);
    expect(bytes.length).toBe(Number(tensors[2]!.fileOffset) + 32);
  });

  it('rejects bad input', () => {
    const w = new GgufWriter();
    expect(() => w.addU32('general.alignment', 64)).toThrow(/twice/);
    expect(() => w.addTensor('x', [2, 2], new Float32Array(3))).toThrow(/needs 4 values/);
    expect(() => w.addU32('neg', -1)).toThrow(RangeError);
    expect(() => w.addArray('u', 'u32', [1.5])).toThrow(RangeError);
    w.addTensor('x', [1], new Float32Array(1));
    expect(() => w.addTensor('x', [1], new Float32Array(1))).toThrow(/twice/);
    expect(() => new GgufWriter({ alignment: 24 })).toThrow(/power of two/);
  });

  it('honours another alignment', async () => {
    const w = new GgufWriter({ alignment: 64 });
    w.addTensor('a', [3], new Float32Array([1, 2, 3]));
    w.addTensor('b', [1], new Float32Array([4]));
    const path = join(dir, 'align64.gguf');
    await w.write(path);
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(flatMetadata(info)['general.alignment']).toBe(64);
    for (const t of info.tensorInfo ?? []) expect(Number(t.fileOffset) % 64).toBe(0);
    expect((info.tensorInfo ?? []).map((t) => Number(t.offset))).toEqual([0, 64]);
  });
});

describe('tiny LLaVA pair', () => {
  it('text model: llama architecture and metadata', () => {
    const md = flatMetadata(textInfo);
    const vocab = buildTinyVocab();
    expect(md['general.architecture']).toBe('llama');
    expect(md['general.name']).toMatch(/perceive tiny random .*test fixture/);
    expect(md['general.alignment']).toBe(32);
    expect(md['llama.context_length']).toBe(4096);
    expect(md['llama.embedding_length']).toBe(64);
    expect(md['llama.block_count']).toBe(2);
    expect(md['llama.feed_forward_length']).toBe(128);
    expect(md['llama.attention.head_count']).toBe(4);
    expect(md['llama.attention.head_count_kv']).toBe(4);
    expect(md['llama.rope.dimension_count']).toBe(16);
    expect(md['llama.attention.layer_norm_rms_epsilon']).toBeCloseTo(1e-5, 10);
    expect(md['llama.vocab_size']).toBe(vocab.tokens.length);
    expect(md['tokenizer.ggml.model']).toBe('llama');
    expect(md['tokenizer.ggml.pre']).toBe('default');
    expect(md['tokenizer.ggml.bos_token_id']).toBe(1);
    expect(md['tokenizer.ggml.eos_token_id']).toBe(2);
    expect(md['tokenizer.ggml.unknown_token_id']).toBe(0);
    expect(md['tokenizer.ggml.add_bos_token']).toBe(true);
    expect(md['tokenizer.ggml.add_eos_token']).toBe(false);
    expect(md['tokenizer.ggml.add_space_prefix']).toBe(false);
    expect(md['tokenizer.chat_template']).toMatch(/USER: .*ASSISTANT:/s);
    expect(md['tokenizer.chat_template']).toContain("{{ '\\n' }}");

    const tokens = md['tokenizer.ggml.tokens'] as string[];
    const types = md['tokenizer.ggml.token_type'] as number[];
    const scores = md['tokenizer.ggml.scores'] as number[];
    expect(tokens).toEqual(vocab.tokens);
    expect(types).toHaveLength(tokens.length);
    expect(scores).toHaveLength(tokens.length);
    expect(tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(types.slice(0, 3)).toEqual([2, 3, 3]);
    expect(tokens[3]).toBe('<0x00>');
    expect(tokens[3 + 0x0a]).toBe('<0x0A>');
    expect(tokens[258]).toBe('<0xFF>');
    expect(types.slice(3, 259).every((t) => t === 6)).toBe(true);
    expect(tokens[259]).toBe('\u2581');
    for (let c = 0x21; c <= 0x7e; c++) expect(tokens).toContain(String.fromCharCode(c));
    expect(tokens.indexOf('▁Yes')).toBe(417);
    expect(tokens.indexOf('▁No')).toBe(418);
    for (const w of ['Yes', 'No', 'A', 'B', 'C', 'D', '1', '2', 'the', 'is', 'of', 'to', 'left', 'right', 'on', 'under', 'a', 'image', 'USER', 'ASSISTANT']) {
      // the word and every prefix, so SentencePiece merges can reach it
      for (let n = 1; n <= w.length; n++) expect(tokens).toContain('\u2581' + w.slice(0, n));
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('text model: tensor names and shapes (ggml order)', () => {
    const V = buildTinyVocab().tokens.length;
    const shapes = tensorShapes(textInfo);
    const expected: Record<string, number[]> = {
      'token_embd.weight': [64, V],
      'output_norm.weight': [64],
      'output.weight': [64, V],
    };
    for (let l = 0; l < 2; l++) {
      expected[`blk.${l}.attn_norm.weight`] = [64];
      for (const n of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) expected[`blk.${l}.${n}.weight`] = [64, 64];
      expected[`blk.${l}.ffn_norm.weight`] = [64];
      expected[`blk.${l}.ffn_gate.weight`] = [64, 128];
      expected[`blk.${l}.ffn_up.weight`] = [64, 128];
      expected[`blk.${l}.ffn_down.weight`] = [128, 64];
    }
    expect(Object.keys(shapes).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, dims] of Object.entries(expected)) {
      expect(shapes[name], name).toEqual({ dims, type: 0 });
    }
    expect(Number(textInfo.tensorCount)).toBe(21);
  });

  it('mmproj: clip metadata', () => {
    const md = flatMetadata(clipInfo);
    expect(md['general.architecture']).toBe('clip');
    expect(md['general.name']).toMatch(/perceive tiny random .*test fixture/);
    expect(md['clip.has_vision_encoder']).toBe(true);
    expect(md['clip.projector_type']).toBe('mlp');
    expect(md['clip.use_gelu']).toBe(false);
    expect(md['clip.vision.image_size']).toBe(56);
    expect(md['clip.vision.patch_size']).toBe(14);
    expect(md['clip.vision.embedding_length']).toBe(32);
    expect(md['clip.vision.feed_forward_length']).toBe(64);
    expect(md['clip.vision.projection_dim']).toBe(64);
    expect(md['clip.vision.attention.head_count']).toBe(2);
    expect(md['clip.vision.block_count']).toBe(2);
    expect(md['clip.vision.attention.layer_norm_epsilon']).toBeCloseTo(1e-5, 10);
    const mean = md['clip.vision.image_mean'] as number[];
    const std = md['clip.vision.image_std'] as number[];
    expect(mean).toHaveLength(3);
    expect(std).toHaveLength(3);
    mean.forEach((v, i) => expect(v).toBeCloseTo(TINY_LLAVA.vision.imageMean[i]!, 6));
    std.forEach((v, i) => expect(v).toBeCloseTo(TINY_LLAVA.vision.imageStd[i]!, 6));
    expect((56 / 14) ** 2).toBe(TINY_LLAVA.imageTokens);
  });

  it('mmproj: tensor names and shapes (ggml order)', () => {
    const shapes = tensorShapes(clipInfo);
    const E = 32;
    const expected: Record<string, number[]> = {
      'v.patch_embd.weight': [14, 14, 3, E],
      'v.class_embd': [E],
      'v.position_embd.weight': [E, 17],
      'v.pre_ln.weight': [E],
      'v.pre_ln.bias': [E],
      'mm.0.weight': [E, 64],
      'mm.0.bias': [64],
      'mm.2.weight': [64, 64],
      'mm.2.bias': [64],
    };
    for (let l = 0; l < 2; l++) {
      for (const n of ['attn_q', 'attn_k', 'attn_v', 'attn_out']) {
        expected[`v.blk.${l}.${n}.weight`] = [E, E];
        expected[`v.blk.${l}.${n}.bias`] = [E];
      }
      for (const n of ['ln1', 'ln2']) {
        expected[`v.blk.${l}.${n}.weight`] = [E];
        expected[`v.blk.${l}.${n}.bias`] = [E];
      }
      expected[`v.blk.${l}.ffn_up.weight`] = [E, 64];
      expected[`v.blk.${l}.ffn_up.bias`] = [64];
      expected[`v.blk.${l}.ffn_down.weight`] = [64, E];
      expected[`v.blk.${l}.ffn_down.bias`] = [E];
    }
    expect(Object.keys(shapes).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, dims] of Object.entries(expected)) {
      expect(shapes[name]?.dims, name).toEqual(dims);
      expect(shapes[name]?.type, name).toBe(name === 'v.patch_embd.weight' ? 1 : 0);
    }
    expect(shapes['v.post_ln.weight']).toBeUndefined();
  });

  it('is byte-identical for a seed and differs for another seed', async () => {
    const again = await writeTinyLlava(join(dir, 'b'), { seed: 1234 });
    const other = await writeTinyLlava(join(dir, 'c'), { seed: 1235 });
    const [m1, p1, m2, p2, m3, p3] = await Promise.all(
      [paths.model, paths.mmproj, again.model, again.mmproj, other.model, other.mmproj].map((p) => readFile(p)),
    );
    expect(sha(m2!)).toBe(sha(m1!));
    expect(sha(p2!)).toBe(sha(p1!));
    expect(sha(m3!)).not.toBe(sha(m1!));
    expect(sha(p3!)).not.toBe(sha(p1!));
    // same layout, other weights
    expect(m3!.length).toBe(m1!.length);
    expect(p3!.length).toBe(p1!.length);
  });

  it('stores the F16 patch embedding as converted halves', async () => {
    const bytes = await readFile(paths.mmproj);
    const t = (clipInfo.tensorInfo ?? []).find((x) => x.name === 'v.patch_embd.weight')!;
    const start = Number(t.fileOffset);
    const n = 14 * 14 * 3 * 32;
    let nonZero = 0;
    let maxAbs = 0;
    for (let i = 0; i < n; i++) {
      const v = f16BitsToF32(bytes.readUInt16LE(start + 2 * i));
      expect(Number.isFinite(v)).toBe(true);
      if (v !== 0) nonZero++;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    expect(nonZero).toBeGreaterThan(n * 0.99);
    expect(maxAbs).toBeLessThan(1);
  });
});
