import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_SIGLIP_LOGITS, writeTinySiglip } from '../../src/fixtures/tiny-siglip.js';

const { onnx } = onnxProto;

let tmp: string;
let a: string;
let b: string;
let c: string;
let separate: string;
let combined: string;
let folded: string;

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
  const copy = new Uint8Array(t.rawData);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

const ops = async (file: string) => ((await readModel(file)).graph?.node ?? []).map((n) => String(n.opType));
const count = (list: string[], op: string) => list.filter((o) => o === op).length;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tiny-siglip-'));
  a = (await writeTinySiglip(path.join(tmp, 'a'), { seed: 11 })).dir;
  b = (await writeTinySiglip(path.join(tmp, 'b'), { seed: 11 })).dir;
  c = (await writeTinySiglip(path.join(tmp, 'c'), { seed: 12 })).dir;
  separate = (await writeTinySiglip(path.join(tmp, 'separate'), { seed: 11, layout: 'separate' })).dir;
  combined = (await writeTinySiglip(path.join(tmp, 'combined'), { seed: 11, layout: 'combined' })).dir;
  folded = (await writeTinySiglip(path.join(tmp, 'folded'), { seed: 11, layout: 'combined', foldLogitScale: true, resample: 2 })).dir;
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('writeTinySiglip', () => {
  it('writes the Hugging Face / Xenova ONNX folder layout (both towers and model.onnx by default)', async () => {
    const configs = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'];
    const onnxFile = (name: string) => path.join('onnx', name);
    expect(await listFiles(a)).toEqual([
      ...configs.slice(0, 1),
      onnxFile('model.onnx'),
      onnxFile('text_model.onnx'),
      onnxFile('vision_model.onnx'),
      ...configs.slice(1),
    ]);
    expect(await listFiles(separate)).toEqual([...configs.slice(0, 1), onnxFile('text_model.onnx'), onnxFile('vision_model.onnx'), ...configs.slice(1)]);
    expect(await listFiles(combined)).toEqual([...configs.slice(0, 1), onnxFile('model.onnx'), ...configs.slice(1)]);
  });

  it('is byte-for-byte deterministic for a seed, and the layouts share their files', async () => {
    const files = await listFiles(a);
    expect(await listFiles(b)).toEqual(files);
    for (const file of files) {
      expect((await fs.readFile(path.join(a, file))).equals(await fs.readFile(path.join(b, file))), file).toBe(true);
    }
    for (const file of ['onnx/text_model.onnx', 'onnx/vision_model.onnx']) {
      expect((await fs.readFile(path.join(a, file))).equals(await fs.readFile(path.join(separate, file))), file).toBe(true);
    }
    expect((await fs.readFile(path.join(a, 'onnx/model.onnx'))).equals(await fs.readFile(path.join(combined, 'onnx/model.onnx')))).toBe(true);
  });

  it('draws different weights for a different seed, and the same weights in the towers and model.onnx', async () => {
    for (const file of ['onnx/text_model.onnx', 'onnx/vision_model.onnx', 'onnx/model.onnx']) {
      expect((await fs.readFile(path.join(a, file))).equals(await fs.readFile(path.join(c, file))), file).toBe(false);
    }
    const name = 'vision_model.head.probe';
    const tower = initializer(await readModel(path.join(a, 'onnx/vision_model.onnx')), name);
    const both = initializer(await readModel(path.join(a, 'onnx/model.onnx')), name);
    const other = initializer(await readModel(path.join(c, 'onnx/vision_model.onnx')), name);
    expect(Array.from(both)).toEqual(Array.from(tower));
    expect(Array.from(other)).not.toEqual(Array.from(tower));
  });

  it('declares the export input and output names: towers give pooler_output, model.onnx takes no attention_mask', async () => {
    const FLOAT = onnx.TensorProto.DataType.FLOAT;
    const INT64 = onnx.TensorProto.DataType.INT64;
    const text = await readModel(path.join(a, 'onnx/text_model.onnx'));
    const vision = await readModel(path.join(a, 'onnx/vision_model.onnx'));
    const both = await readModel(path.join(a, 'onnx/model.onnx'));
    for (const model of [text, vision, both]) {
      expect(Number(model.irVersion)).toBe(8);
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
      expect(model.producerName).toBe('perceive-tiny-siglip');
    }
    expect((text.graph?.input ?? []).map((i) => [i.name, i.type?.tensorType?.elemType])).toEqual([['input_ids', INT64]]);
    expect((text.graph?.output ?? []).map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
    expect((vision.graph?.input ?? []).map((i) => [i.name, i.type?.tensorType?.elemType])).toEqual([['pixel_values', FLOAT]]);
    expect((vision.graph?.output ?? []).map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
    expect((both.graph?.input ?? []).map((i) => i.name)).toEqual(['input_ids', 'pixel_values']);
    expect((both.graph?.output ?? []).map((o) => o.name)).toEqual(['logits_per_image', 'logits_per_text', 'text_embeds', 'image_embeds']);
  });

  it('has the SigLIP structure', async () => {
    const text = await ops(path.join(a, 'onnx/text_model.onnx'));
    const vision = await ops(path.join(a, 'onnx/vision_model.onnx'));
    // Vision: patch Conv with a bias, no class token (no Concat of a CLS), 2 LN per layer + post-LN
    // + the head's LN; self-attention per layer plus the head's pooling attention; tanh-GELU per MLP.
    expect(count(vision, 'Conv')).toBe(1);
    const conv = ((await readModel(path.join(a, 'onnx/vision_model.onnx'))).graph?.node ?? []).find((n) => n.opType === 'Conv');
    expect(conv?.input).toHaveLength(3);
    expect(count(vision, 'LayerNormalization')).toBe(2 * 2 + 1 + 1);
    expect(count(vision, 'Softmax')).toBe(2 + 1);
    expect(count(vision, 'Tanh')).toBe(2 + 1);
    expect(count(vision, 'Sigmoid')).toBe(0);
    // Text: no mask at all (no Trilu), no ArgMax pooling: the last position (Gather -1) → head.
    expect(count(text, 'LayerNormalization')).toBe(2 * 2 + 1);
    expect(count(text, 'Trilu')).toBe(0);
    expect(count(text, 'ArgMax')).toBe(0);
    expect(count(text, 'Tanh')).toBe(2);
    const both = await ops(path.join(a, 'onnx/model.onnx'));
    expect(count(both, 'Exp')).toBe(1);
    expect(count(both, 'ReduceL2')).toBe(2);
    expect(count(await ops(path.join(folded, 'onnx/model.onnx')), 'Exp')).toBe(0);
  });

  it('holds the logit scale and bias as SiglipModel parameters, or exp(scale) folded', async () => {
    const both = await readModel(path.join(a, 'onnx/model.onnx'));
    expect(Array.from(initializer(both, 'logit_scale'))).toEqual([Math.fround(TINY_SIGLIP_LOGITS.scale)]);
    expect(Array.from(initializer(both, 'logit_bias'))).toEqual([TINY_SIGLIP_LOGITS.bias]);
    const f = await readModel(path.join(folded, 'onnx/model.onnx'));
    expect((f.graph?.initializer ?? []).some((i) => i.name === 'logit_scale')).toBe(false);
    expect(initializer(f, 'onnx::Mul_1234')[0]).toBeCloseTo(10, 5);
  });

  it('writes config files consistent with the tokenizer and the graphs', async () => {
    const config = JSON.parse(await fs.readFile(path.join(a, 'config.json'), 'utf8'));
    const tokenizer = JSON.parse(await fs.readFile(path.join(a, 'tokenizer.json'), 'utf8'));
    const tokenizerConfig = JSON.parse(await fs.readFile(path.join(a, 'tokenizer_config.json'), 'utf8'));
    const pre = JSON.parse(await fs.readFile(path.join(a, 'preprocessor_config.json'), 'utf8'));
    expect(config.model_type).toBe('siglip');
    expect(config.text_config).toMatchObject({
      vocab_size: tokenizer.model.vocab.length,
      max_position_embeddings: 64,
      pad_token_id: 1,
      hidden_act: 'gelu_pytorch_tanh',
    });
    expect(config.vision_config).toMatchObject({ image_size: 32, patch_size: 8, hidden_size: 32 });
    expect(tokenizer.model).toMatchObject({ type: 'Unigram', unk_id: 2 });
    expect(tokenizer.model.vocab.slice(0, 3).map((p: [string, number]) => p[0])).toEqual(['<pad>', '</s>', '<unk>']);
    expect(tokenizer.post_processor.type).toBe('TemplateProcessing');
    expect(tokenizerConfig).toMatchObject({
      tokenizer_class: 'SiglipTokenizer',
      pad_token: '</s>',
      eos_token: '</s>',
      model_max_length: 64,
      do_lower_case: true,
    });
    expect(pre).toMatchObject({
      image_processor_type: 'SiglipImageProcessor',
      do_resize: true,
      size: { height: 32, width: 32 },
      resample: 3,
      do_rescale: true,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    });
    expect(pre).not.toHaveProperty('crop_size');
    expect(pre.rescale_factor).toBeCloseTo(1 / 255, 15);
    expect(JSON.parse(await fs.readFile(path.join(folded, 'preprocessor_config.json'), 'utf8')).resample).toBe(2);
  });
});
