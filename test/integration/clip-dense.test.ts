/**
 * `clip.dense` on the generated tiny CLIP with real onnxruntime: its scores against the MaxSim
 * late-interaction rule computed here by hand (hidden states from this test's own onnxruntime
 * sessions, post_layernorm and projections read from the ONNX initializers, plain arrays), and the
 * exported patch × token maps written as .npy by the run's array-file step.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedImage, loadImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { ClipDenseArm } from '../../src/models/clip/clip-dense-arm.js';
import { ClipEncoder } from '../../src/models/clip/clip-encoder.js';
import { ClipPreprocessor, parsePreprocessorConfig } from '../../src/models/clip/clip-preprocessor.js';
import { ClipTokenizer } from '../../src/models/clip/clip-tokenizer.js';
import { writeArrayFiles } from '../../src/run/array-files.js';
import { RunDirectory } from '../../src/store/run-directory.js';

const { onnx } = onnxProto;

let tmp: string;
let dir: string;
let encoder: ClipEncoder;
let images: LoadedImage[];
const options = ['a red mug left of a blue plate', 'the plate is under the cup', 'dog', ''];

/** An initializer of an ONNX file as plain numbers, with its dims. */
function initializer(file: string, name: string): { dims: number[]; values: number[] } {
  const model = onnx.ModelProto.decode(fs.readFileSync(file));
  const t = model.graph!.initializer!.find((i) => i.name === name);
  if (!t) throw new Error(`${file} has no initializer ${name}`);
  const raw = Buffer.from(t.rawData!);
  const values: number[] = [];
  for (let i = 0; i < raw.length; i += 4) values.push(raw.readFloatLE(i));
  return { dims: t.dims!.map(Number), values };
}

const unit = (v: number[]): number[] => {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
};

/** rows × W, W [in, out] row-major. */
const project = (row: number[], w: { dims: number[]; values: number[] }): number[] => {
  const [inDim, outDim] = w.dims as [number, number];
  const out = new Array<number>(outDim).fill(0);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) out[j]! += row[i]! * w.values[i * outDim + j]!;
  return out;
};

const layerNorm = (row: number[], g: number[], b: number[], eps: number): number[] => {
  const mean = row.reduce((s, x) => s + x, 0) / row.length;
  const variance = row.reduce((s, x) => s + (x - mean) ** 2, 0) / row.length;
  return row.map((x, i) => ((x - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
};

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** Patch vectors (class token first) and token vectors (BOS … EOS) the long way round. */
async function byHand(image: LoadedImage, texts: string[]): Promise<{ patches: number[][]; tokens: number[][][] }> {
  const visionFile = path.join(dir, 'onnx/vision_model.onnx');
  const textFile = path.join(dir, 'onnx/text_model.onnx');
  const gamma = initializer(visionFile, 'vision_model.post_layernorm.weight').values;
  const beta = initializer(visionFile, 'vision_model.post_layernorm.bias').values;
  const visual = initializer(visionFile, 'visual_projection.weight');
  const textual = initializer(textFile, 'text_projection.weight');
  const eps = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).vision_config.layer_norm_eps as number;

  const pre = new ClipPreprocessor(parsePreprocessorConfig(JSON.parse(fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8'))));
  const pixels = await pre.preprocess(image);
  const vision = await ort.InferenceSession.create(visionFile);
  const v = await vision.run({ pixel_values: new ort.Tensor('float32', pixels.data, [1, 3, pixels.height, pixels.width]) });
  const hv = v.last_hidden_state!;
  const [, seq, width] = hv.dims as [number, number, number];
  const patches: number[][] = [];
  for (let t = 0; t < seq; t++) {
    const row = Array.from((hv.data as Float32Array).subarray(t * width, (t + 1) * width));
    patches.push(unit(project(layerNorm(row, gamma, beta, eps), visual)));
  }
  await vision.release();

  const tokenizer = await ClipTokenizer.load(dir);
  const text = await ort.InferenceSession.create(textFile);
  const tokens: number[][][] = [];
  for (const caption of texts) {
    const ids = tokenizer.encode(caption);
    const out = await text.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
    const h = out.last_hidden_state!;
    const w = h.dims[2] as number;
    tokens.push(ids.map((_, t) => unit(project(Array.from((h.data as Float32Array).subarray(t * w, (t + 1) * w)), textual))));
  }
  await text.release();
  return { patches, tokens };
}

/** The rule: mean over caption tokens (not BOS/EOS; EOS alone when there are none) of the best patch (not the class token). */
function maxSimByHand(patches: number[][], tokens: number[][]): number {
  const columns = tokens.length > 2 ? tokens.slice(1, -1) : [tokens[tokens.length - 1]!];
  let sum = 0;
  for (const t of columns) sum += Math.max(...patches.slice(1).map((p) => dot(p, t)));
  return sum / columns.length;
}

function item(id: string, imgs: LoadedImage[]): Item {
  return {
    id,
    benchmark: 'dense.synthetic',
    subset: 'controlled_a',
    images: imgs.map((i) => i.path),
    options,
    correct: 0,
    groups: {},
    source: { file: 'synthetic', row: 0 },
    meta: {},
  };
}

/**
 * A copy of the tiny CLIP whose vision_model.onnx is rewritten as other exporters write it: `folded`,
 * as torch.onnx with constant folding and opset 14 (the projection an unnamed `onnx::MatMul_…`
 * initializer, post_layernorm spelled out as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add over the named
 * weights); `transposed`, the projection as torch's [out, in] `visual_projection.weight` behind a
 * Transpose. `configEps` overrides config.json's vision layer_norm_eps.
 */
async function variant(name: string, style: 'folded' | 'transposed', configEps?: number): Promise<string> {
  const out = path.join(tmp, name);
  fs.cpSync(dir, out, { recursive: true });
  const file = path.join(out, 'onnx/vision_model.onnx');
  const model = onnx.ModelProto.decode(fs.readFileSync(file));
  const graph = model.graph!;
  const nodes = graph.node!;
  const proj = graph.initializer!.find((i) => i.name === 'visual_projection.weight')!;
  const matmul = nodes.find((n) => n.opType === 'MatMul' && n.input![1] === 'visual_projection.weight')!;
  if (style === 'transposed') {
    const [inDim, outDim] = proj.dims!.map(Number) as [number, number];
    const raw = Buffer.from(proj.rawData!);
    const t = Buffer.alloc(raw.length);
    for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) t.writeFloatLE(raw.readFloatLE((i * outDim + j) * 4), (j * inDim + i) * 4);
    proj.dims = [outDim, inDim];
    proj.rawData = t;
    nodes.splice(nodes.indexOf(matmul), 0, {
      name: '/visual_projection/Transpose',
      opType: 'Transpose',
      input: ['visual_projection.weight'],
      output: ['/visual_projection/Transpose_output_0'],
    });
    matmul.input![1] = '/visual_projection/Transpose_output_0';
  } else {
    proj.name = 'onnx::MatMul_1234';
    matmul.input![1] = 'onnx::MatMul_1234';
    const ln = nodes.find((n) => n.opType === 'LayerNormalization' && n.input![1] === 'vision_model.post_layernorm.weight')!;
    const [x, gamma, beta] = ln.input as [string, string, string];
    const y = ln.output![0]!;
    const f = (v: number, n: string) => ({ name: n, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(v).buffer) });
    graph.initializer!.push(f(2, '/post_layernorm/two'), f(1e-5, '/post_layernorm/eps'));
    const axes = [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [-1] }];
    const op = (opType: string, input: string[], output: string, attribute: typeof axes = []) => ({ name: output, opType, input, output: [output], attribute });
    nodes.splice(
      nodes.indexOf(ln),
      1,
      op('ReduceMean', [x], '/pln/mean', axes),
      op('Sub', [x, '/pln/mean'], '/pln/d'),
      op('Pow', ['/pln/d', '/post_layernorm/two'], '/pln/sq'),
      op('ReduceMean', ['/pln/sq'], '/pln/var', axes),
      op('Add', ['/pln/var', '/post_layernorm/eps'], '/pln/ve'),
      op('Sqrt', ['/pln/ve'], '/pln/sd'),
      op('Div', ['/pln/d', '/pln/sd'], '/pln/n'),
      op('Mul', ['/pln/n', gamma], '/pln/m'),
      op('Add', ['/pln/m', beta], y),
    );
  }
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
  if (configEps !== undefined) {
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    config.vision_config.layer_norm_eps = configEps;
    fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(config));
  }
  return out;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-dense-'));
  dir = (await writeTinyClip(path.join(tmp, 'tiny'), { seed: 7 })).dir;
  encoder = await ClipEncoder.load(dir, { threads: 1, batchSize: 8 });
  images = [];
  for (let k = 0; k < 2; k++) {
    const raw = Buffer.alloc(48 * 40 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * (7 + 5 * k) + k * 91) % 256;
    const file = path.join(tmp, `image-${k}.png`);
    await sharp(raw, { raw: { width: 48, height: 40, channels: 3 } })
      .png()
      .toFile(file);
    images.push(await loadImage(file));
  }
});

afterAll(async () => {
  await encoder?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('clip.dense on the tiny CLIP', () => {
  it('scores each option by MaxSim over the projected hidden states, as computed by hand from the ONNX weights', async () => {
    const arm = new ClipDenseArm('tiny-clip', encoder, 'clip.dense', false);
    const it1 = item('dense.synthetic/0', [images[0]!]);
    await arm.prepare([it1], async (file) => images.find((i) => i.path === file)!);
    const out = await arm.score(it1, [images[0]!]);
    const hand = await byHand(images[0]!, options);
    const expected = options.map((_, o) => maxSimByHand(hand.patches, hand.tokens[o]!));
    expect(out.scores).toHaveLength(1);
    out.scores[0]!.forEach((s, o) => expect(Math.abs(s - expected[o]!)).toBeLessThan(1e-5));
    // The four options differ (the rule reads the tokens), and the empty caption is its EOS token's best patch.
    expect(new Set(expected.map((x) => x.toFixed(6))).size).toBe(4);
    expect(hand.tokens[3]).toHaveLength(2);
    // The pooled cosine beside it is CLIP's own score: class token · EOS token.
    const pooled = (out.extra.pooled_scores as number[][])[0]!;
    options.forEach((_, o) => expect(Math.abs(pooled[o]! - dot(hand.patches[0]!, hand.tokens[o]!.at(-1)!))).toBeLessThan(1e-5));
    const [clipImage] = await encoder.encodeImages([images[0]!]);
    const clipTexts = await encoder.encodeTexts(options);
    options.forEach((_, o) => expect(Math.abs(pooled[o]! - dot(Array.from(clipImage!), Array.from(clipTexts[o]!)))).toBeLessThan(1e-5));
    expect(out.extra.caption_tokens).toEqual(hand.tokens.map((t) => Math.max(1, t.length - 2)));
    expect(out.extra.rule).toMatch(/MaxSim.*ColBERT/);
    expect(out.extra.projection).toEqual([
      'vision: LayerNormalization(vision_model.post_layernorm.weight, vision_model.post_layernorm.bias, ε 0.00001), then the 32×16 MatMul before image_embeds',
      'text: the 32×16 MatMul before text_embeds',
    ]);
    expect(arm.params).toBeUndefined();
  }, 60_000);

  it('exports each (image, option) patch × token cosine map as one .npy per item', async () => {
    const arm = new ClipDenseArm('tiny-clip', encoder, 'clip.dense', true);
    expect(arm.params).toEqual({ export_maps: true });
    const pair = item('dense.synthetic/1', images);
    const out = await arm.score(pair, images);
    const run = new RunDirectory(tmp, 'run');
    run.create();
    const extra = writeArrayFiles(run, pair.id, 'clip.dense', out.extra);
    const entry = (extra.array_files as Record<string, { file: string; shape: number[]; grid: number[] }>).dense_maps!;
    expect(entry.file).toBe('dense_maps/clip.dense/dense.synthetic/1.npy');
    // 2 images × 4 options × (class token + 4×4 patches) × the longest option's tokens (BOS, 8 words, EOS).
    expect(entry.shape).toEqual([2, 4, 17, 10]);
    expect(entry.grid).toEqual([4, 4]);
    expect(JSON.stringify(extra)).not.toContain('data_base64');

    const bytes = fs.readFileSync(path.join(run.dir, entry.file));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('\x93NUMPY\x01\x00');
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLength).toString('latin1')).toBe(
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 17, 10), }`.padEnd(headerLength - 1, ' ') + '\n',
    );
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 10 + headerLength, bytes.byteOffset + bytes.length));
    expect(data.length).toBe(2 * 4 * 17 * 10);
    const at = (i: number, o: number, p: number, t: number) => data[((i * 4 + o) * 17 + p) * 10 + t]!;
    const hand = await byHand(images[1]!, options);
    // A few values: image 1, option 1 ("the plate is under the cup": BOS + 6 + EOS = 8 columns).
    expect(hand.tokens[1]).toHaveLength(8);
    for (const [p, t] of [
      [0, 0],
      [5, 3],
      [16, 7],
    ] as const) {
      expect(Math.abs(at(1, 1, p, t) - dot(hand.patches[p]!, hand.tokens[1]![t]!))).toBeLessThan(1e-5);
    }
    // Beyond an option's tokens: NaN. The map's MaxSim is the score.
    expect(Number.isNaN(at(1, 1, 3, 8))).toBe(true);
    expect(Number.isNaN(at(0, 3, 0, 2))).toBe(true);
    let sum = 0;
    for (let t = 1; t <= 6; t++) {
      let best = Number.NEGATIVE_INFINITY;
      for (let p = 1; p < 17; p++) best = Math.max(best, at(1, 1, p, t));
      sum += best;
    }
    expect(Math.abs(sum / 6 - out.scores[1]![1]!)).toBeLessThan(1e-5);
  }, 60_000);

  it('reads the projection and post_layernorm as other exporters lay them out (folded opset-14 graph, Transpose of the torch weight)', async () => {
    const one = item('dense.synthetic/3', [images[1]!]);
    const reference = await new ClipDenseArm('tiny-clip', encoder, 'clip.dense', false).score(one, [images[1]!]);
    for (const style of ['folded', 'transposed'] as const) {
      const enc = await ClipEncoder.load(await variant(`variant-${style}`, style), { threads: 1 });
      try {
        const out = await new ClipDenseArm('variant', enc, 'clip.dense', false).score(one, [images[1]!]);
        reference.scores[0]!.forEach((s, o) => expect(Math.abs(out.scores[0]![o]! - s), style).toBeLessThan(1e-5));
        const how = (await enc.dense!.describe()).join('; ');
        expect(how).toMatch(style === 'folded' ? /vision_model\.post_layernorm\.\{weight,bias\}, ε 0\.00001 \(config\.json\)/ : /LayerNormalization/);
      } finally {
        await enc.close();
      }
    }
    // A layer norm read with the wrong ε (config.json says 1000, the graph computes with 1e-5: the bias then dominates) no longer reproduces image_embeds: bad-model, not a score.
    const wrong = await ClipEncoder.load(await variant('variant-wrong-eps', 'folded', 1000), { threads: 1 });
    try {
      await expect(new ClipDenseArm('wrong', wrong, 'clip.dense', false).score(one, [images[1]!])).rejects.toMatchObject({
        code: 'bad-model',
        message: expect.stringMatching(/do not reproduce image_embeds/),
      });
    } finally {
      await wrong.close();
    }
  }, 60_000);

  it('fails with a named reason on a combined model.onnx, which exposes no hidden states', async () => {
    const combined = (await writeTinyClip(path.join(tmp, 'combined'), { seed: 7, layout: 'combined' })).dir;
    const enc = await ClipEncoder.load(combined, { threads: 1 });
    try {
      expect(enc.dense).toBeUndefined();
      const arm = new ClipDenseArm('tiny-combined', enc, 'clip.dense', false);
      const one = item('dense.synthetic/2', [images[0]!]);
      await arm.prepare([one], async () => images[0]!);
      await expect(arm.score(one, [images[0]!])).rejects.toMatchObject({ code: 'bad-model', message: expect.stringMatching(/last_hidden_state/) });
    } finally {
      await enc.close();
    }
  }, 60_000);
});
