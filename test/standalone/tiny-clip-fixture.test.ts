import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';

const { onnx } = onnxProto;

let tmp: string;
let a: string;
let b: string;
let c: string;
let combined: string;

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

async function readModel(file: string) {
  return onnx.ModelProto.decode(await fs.readFile(file));
}

function initializer(model: ReturnType<typeof onnx.ModelProto.decode>, name: string): Float32Array {
  const t = (model.graph?.initializer ?? []).find((i) => i.name === name);
  if (!t?.rawData) throw new Error(`no initializer ${name}`);
  const copy = new Uint8Array(t.rawData); // aligned copy
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

function io(
  values: Array<{
    name?: string | null;
    type?: { tensorType?: { elemType?: number | null; shape?: { dim?: Array<{ dimValue?: unknown; dimParam?: string | null }> | null } | null } | null } | null;
  }>,
) {
  return values.map((v) => ({
    name: v.name,
    elemType: v.type?.tensorType?.elemType,
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))),
  }));
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tiny-clip-'));
  a = (await writeTinyClip(path.join(tmp, 'a'), { seed: 11 })).dir;
  b = (await writeTinyClip(path.join(tmp, 'b'), { seed: 11 })).dir;
  c = (await writeTinyClip(path.join(tmp, 'c'), { seed: 12 })).dir;
  combined = (await writeTinyClip(path.join(tmp, 'combined'), { seed: 11, layout: 'combined' })).dir;
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('writeTinyClip', () => {
  it('writes the Hugging Face / Xenova ONNX folder layout', async () => {
    expect(await listFiles(a)).toEqual([
      'config.json',
      path.join('onnx', 'text_model.onnx'),
      path.join('onnx', 'vision_model.onnx'),
      'preprocessor_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(await listFiles(combined)).toContain(path.join('onnx', 'model.onnx'));
  });

  it('is byte-for-byte deterministic for a seed', async () => {
    const files = await listFiles(a);
    expect(await listFiles(b)).toEqual(files);
    for (const file of files) {
      const [x, y] = await Promise.all([fs.readFile(path.join(a, file)), fs.readFile(path.join(b, file))]);
      expect(x.equals(y), file).toBe(true);
    }
  });

  it('draws different weights for a different seed (and the same non-weight files)', async () => {
    for (const file of ['config.json', 'tokenizer.json', 'preprocessor_config.json']) {
      expect((await fs.readFile(path.join(a, file))).equals(await fs.readFile(path.join(c, file))), file).toBe(true);
    }
    for (const file of ['onnx/text_model.onnx', 'onnx/vision_model.onnx']) {
      expect((await fs.readFile(path.join(a, file))).equals(await fs.readFile(path.join(c, file))), file).toBe(false);
    }
    const wa = initializer(await readModel(path.join(a, 'onnx/vision_model.onnx')), 'vision_model.embeddings.patch_embedding.weight');
    const wc = initializer(await readModel(path.join(c, 'onnx/vision_model.onnx')), 'vision_model.embeddings.patch_embedding.weight');
    expect(wa.length).toBe(wc.length);
    expect(Array.from(wa)).not.toEqual(Array.from(wc));
  });

  it('uses weight scales that keep activations away from zero and saturation', async () => {
    const text = await readModel(path.join(a, 'onnx/text_model.onnx'));
    const emb = initializer(text, 'text_model.embeddings.token_embedding.weight');
    const std = Math.sqrt(emb.reduce((s, v) => s + v * v, 0) / emb.length);
    expect(std).toBeGreaterThan(0.15);
    expect(std).toBeLessThan(0.25);
  });

  it('declares the Hugging Face input and output names, opset 17, IR 8', async () => {
    const FLOAT = onnx.TensorProto.DataType.FLOAT;
    const INT64 = onnx.TensorProto.DataType.INT64;
    const text = await readModel(path.join(a, 'onnx/text_model.onnx'));
    const vision = await readModel(path.join(a, 'onnx/vision_model.onnx'));
    for (const model of [text, vision]) {
      expect(Number(model.irVersion)).toBe(8);
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    }
    expect(io(text.graph?.input ?? [])).toEqual([{ name: 'input_ids', elemType: INT64, dims: ['batch_size', 'sequence_length'] }]);
    expect(io(text.graph?.output ?? [])).toEqual([
      { name: 'text_embeds', elemType: FLOAT, dims: ['batch_size', 16] },
      { name: 'last_hidden_state', elemType: FLOAT, dims: ['batch_size', 'sequence_length', 32] },
    ]);
    expect(io(vision.graph?.input ?? [])).toEqual([{ name: 'pixel_values', elemType: FLOAT, dims: ['batch_size', 3, 32, 32] }]);
    expect(io(vision.graph?.output ?? [])).toEqual([
      { name: 'image_embeds', elemType: FLOAT, dims: ['batch_size', 16] },
      { name: 'last_hidden_state', elemType: FLOAT, dims: ['batch_size', 17, 32] },
    ]);
    const both = await readModel(path.join(combined, 'onnx/model.onnx'));
    expect((both.graph?.input ?? []).map((i) => i.name)).toEqual(['input_ids', 'pixel_values', 'attention_mask']);
    expect((both.graph?.output ?? []).map((o) => o.name)).toEqual(['logits_per_image', 'logits_per_text', 'text_embeds', 'image_embeds']);
  });

  it('has the CLIP structure', async () => {
    const ops = async (file: string) => ((await readModel(file)).graph?.node ?? []).map((n) => String(n.opType));
    const count = (list: string[], op: string) => list.filter((o) => o === op).length;
    const text = await ops(path.join(a, 'onnx/text_model.onnx'));
    const vision = await ops(path.join(a, 'onnx/vision_model.onnx'));
    // Vision: patch Conv, pre-LN + 2 per layer + post-LN, one Softmax and one quick-GELU Sigmoid per layer.
    expect(count(vision, 'Conv')).toBe(1);
    expect(count(vision, 'LayerNormalization')).toBe(1 + 2 * 2 + 1);
    expect(count(vision, 'Softmax')).toBe(2);
    expect(count(vision, 'Sigmoid')).toBe(2);
    // Text: 2 per layer + final LN, causal mask (Trilu), EOS pooling by ArgMax + GatherND.
    expect(count(text, 'LayerNormalization')).toBe(2 * 2 + 1);
    expect(count(text, 'Trilu')).toBe(1);
    expect(count(text, 'ArgMax')).toBe(1);
    expect(count(text, 'GatherND')).toBe(1);
    const vis = await readModel(path.join(a, 'onnx/vision_model.onnx'));
    const conv = (vis.graph?.node ?? []).find((n) => n.opType === 'Conv');
    expect(conv?.input).toHaveLength(2); // no bias, as CLIP's patch embedding
  });

  it('writes config files consistent with the tokenizer and the graphs', async () => {
    const config = JSON.parse(await fs.readFile(path.join(a, 'config.json'), 'utf8'));
    const tokenizer = JSON.parse(await fs.readFile(path.join(a, 'tokenizer.json'), 'utf8'));
    const pre = JSON.parse(await fs.readFile(path.join(a, 'preprocessor_config.json'), 'utf8'));
    const vocabSize = Object.keys(tokenizer.model.vocab).length;
    expect(config.model_type).toBe('clip');
    expect(config.projection_dim).toBe(16);
    expect(config.text_config.vocab_size).toBe(vocabSize);
    expect(config.text_config.eos_token_id).toBe(vocabSize - 1);
    expect(config.text_config.max_position_embeddings).toBe(77);
    expect(config.vision_config).toMatchObject({ image_size: 32, patch_size: 8, hidden_size: 32 });
    expect(tokenizer.model).toMatchObject({ type: 'BPE', end_of_word_suffix: '</w>', unk_token: '<|endoftext|>' });
    expect(tokenizer.added_tokens.map((t: { content: string }) => t.content)).toEqual(['<|startoftext|>', '<|endoftext|>']);
    expect(tokenizer.post_processor.type).toBe('RobertaProcessing');
    expect(pre).toMatchObject({
      do_resize: true,
      size: { shortest_edge: 32 },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: 32, width: 32 },
      do_rescale: true,
      do_normalize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
    });
    expect(pre.rescale_factor).toBeCloseTo(1 / 255, 15);
  });
});
