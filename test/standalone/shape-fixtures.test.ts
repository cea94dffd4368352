import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_VOCAB_SIZE, shapeClipSizes, writeShapeClip } from '../../src/fixtures/shape-clip.js';
import { LLAVA_1_5_7B, shapeLlavaSizes } from '../../src/fixtures/shape-llava.js';
import { buildLlavaMmproj, buildLlavaText } from '../../src/fixtures/tiny-llava.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'perceive-shape-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Info = Awaited<ReturnType<typeof readGgufFileInfo>>;
const shapes = (info: Info): Record<string, number[]> => Object.fromEntries((info.fullTensorInfo ?? []).map((t) => [t.name, t.dimensions.map(Number)]));

describe('LLaVA-1.5-7B shape model (K=1)', () => {
  it('text GGUF declares the real sizes: 4096 wide, 32 heads, FF 11008, 32000 tokens, ctx 4096', async () => {
    // The F16 file is ~730 MB even at K=1: the header (all metadata and tensor infos) is what
    // readGgufFileInfo reads, so write only that.
    const sizes = shapeLlavaSizes(1);
    const writer = buildLlavaText(0, sizes.text, { vocabSize: sizes.vocabSize, matrixType: 'F16' });
    const file = join(dir, 'text-header.gguf');
    await writeFile(file, writer.headerBuffer());
    const info = await readGgufFileInfo(file, { logWarnings: false, readTensorInfo: true });
    const m = info.metadata as unknown as {
      general: { architecture: string; file_type: number };
      llama: Record<string, unknown>;
      tokenizer: { ggml: { tokens: string[]; token_type: number[] } };
    };
    expect(m.general.architecture).toBe('llama');
    expect(m.general.file_type).toBe(1);
    expect(m.llama).toMatchObject({
      embedding_length: 4096,
      block_count: 1,
      feed_forward_length: 11008,
      context_length: 4096,
      vocab_size: 32000,
      attention: { head_count: 32, head_count_kv: 32 },
      rope: { dimension_count: 128 },
    });
    expect(m.tokenizer.ggml.tokens).toHaveLength(32000);
    expect(m.tokenizer.ggml.tokens[31999]).toMatch(/^<unused\d+>$/);
    expect(m.tokenizer.ggml.token_type[31999]).toBe(5);
    const t = shapes(info);
    expect(t['token_embd.weight']).toEqual([4096, 32000]);
    expect(t['output.weight']).toEqual([4096, 32000]);
    expect(t['blk.0.attn_q.weight']).toEqual([4096, 4096]);
    expect(t['blk.0.ffn_gate.weight']).toEqual([4096, 11008]);
    expect(t['blk.0.ffn_down.weight']).toEqual([11008, 4096]);
    expect(t['blk.1.attn_q.weight']).toBeUndefined();
    expect(info.fullTensorInfo?.find((x) => x.name === 'blk.0.attn_q.weight')?.ggmlType).toBe(1); // F16
  });

  it('mmproj GGUF (written whole) is ViT-L/14-336: 1024 wide, 16 heads, 577 positions, mlp 1024→4096→4096', async () => {
    const sizes = shapeLlavaSizes(1);
    const file = join(dir, 'mmproj.gguf');
    await buildLlavaMmproj(0, sizes.vision, sizes.text.nEmbd, { matrixType: 'F16' }).writeStreaming(file);
    const info = await readGgufFileInfo(file, { logWarnings: false, readTensorInfo: true });
    const clip = (info.metadata as unknown as { clip: { vision: Record<string, unknown> } }).clip.vision;
    expect(clip).toMatchObject({
      image_size: 336,
      patch_size: 14,
      embedding_length: 1024,
      feed_forward_length: 4096,
      projection_dim: 4096,
      block_count: 1,
      attention: { head_count: 16 },
    });
    const t = shapes(info);
    expect(t['v.patch_embd.weight']).toEqual([14, 14, 3, 1024]);
    expect(t['v.position_embd.weight']).toEqual([1024, LLAVA_1_5_7B.imageTokens + 1]);
    expect(t['mm.0.weight']).toEqual([1024, 4096]);
    expect(t['mm.2.weight']).toEqual([4096, 4096]);
    expect(t['v.blk.0.ffn_up.weight']).toEqual([1024, 4096]);
  });
});

describe('CLIP shape folders', () => {
  it('ViT-L/14-336 sizes are declared', () => {
    const z = shapeClipSizes('clip-vit-l-14-336', 3);
    expect(z).toMatchObject({
      imageSize: 336,
      patchSize: 14,
      projection: 768,
      vocabSize: 49408,
      vision: { width: 1024, heads: 16, intermediate: 4096, layers: 3 },
      text: { width: 768, heads: 12, intermediate: 3072, layers: 3 },
    });
  });

  it('ViT-B/32 K=1 folder has the real tensor shapes and runs', async () => {
    const out = join(dir, 'clip-b32');
    await writeShapeClip(out, { shape: 'clip-vit-b-32', seed: 0, layers: 1 });
    const { onnx } = onnxProto;
    const dims = async (file: string) => {
      const model = onnx.ModelProto.decode(await readFile(join(out, 'onnx', file)));
      return Object.fromEntries((model.graph?.initializer ?? []).map((t) => [t.name, (t.dims ?? []).map(Number)]));
    };
    const text = await dims('text_model.onnx');
    expect(text['text_model.embeddings.token_embedding.weight']).toEqual([CLIP_VOCAB_SIZE, 512]);
    expect(text['text_model.encoder.layers.0.mlp.fc1.weight']).toEqual([512, 2048]);
    expect(text['text_model.encoder.layers.1.mlp.fc1.weight']).toBeUndefined();
    expect(text['text_projection.weight']).toEqual([512, 512]);
    const vision = await dims('vision_model.onnx');
    expect(vision['vision_model.embeddings.patch_embedding.weight']).toEqual([768, 3, 32, 32]);
    expect(vision['vision_model.embeddings.position_embedding.weight']).toEqual([50, 768]);
    expect(vision['vision_model.encoder.layers.0.mlp.fc1.weight']).toEqual([768, 3072]);
    expect(vision['visual_projection.weight']).toEqual([768, 512]);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as {
      text_config: { vocab_size: number };
      vision_config: { image_size: number };
    };
    expect(config.text_config.vocab_size).toBe(49408);
    expect(config.vision_config.image_size).toBe(224);
    const session = await ort.InferenceSession.create(join(out, 'onnx', 'vision_model.onnx'), { intraOpNumThreads: 1 });
    const result = await session.run({ pixel_values: new ort.Tensor('float32', new Float32Array(3 * 224 * 224), [1, 3, 224, 224]) });
    expect(result.image_embeds?.dims).toEqual([1, 512]);
    expect(result.last_hidden_state?.dims).toEqual([1, 50, 768]);
    await session.release();
  });
});
