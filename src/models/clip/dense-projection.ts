/**
 * CLIP's own maps from hidden states into the joint space, read from the tower exports, for the
 * dense arm (`clip.dense`): what turns one pooled vector into `image_embeds` / `text_embeds`,
 * applied to every patch and every token.
 *
 * - Vision (`CLIPVisionModelWithProjection`): image_embeds = visual_projection(post_layernorm(
 *   last_hidden_state[:, 0])). Found by walking back from the graph output `image_embeds`: through a
 *   normalising Div if any, to the MatMul whose weight is an initializer (or a Transpose of one:
 *   the projection, [width, dim]); from its data input back through Gather/Slice/Squeeze/Reshape to
 *   the LayerNormalization (scale, bias, epsilon: post_layernorm). Exports below opset 17 spell the
 *   layer norm out; then the initializers `vision_model.post_layernorm.weight`/`.bias` and
 *   config.json's `vision_config.layer_norm_eps` are used.
 * - Text (`CLIPTextModelWithProjection`): last_hidden_state is already after final_layer_norm, so
 *   text_embeds = text_projection(last_hidden_state[eos]): only the MatMul before `text_embeds`.
 *
 * The encoder checks every batch against the model's own pooled outputs (projected class token vs
 * image_embeds, projected EOS token vs text_embeds), so a graph this reader misreads fails loudly.
 */
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { PerceiveError } from '../../core/errors.js';
import { type FloatTensor, type GraphIndex, type NodeHeader, openOnnx, readFloatInitializer, readGraphIndex } from './onnx-graph-reader.js';

/** A linear map without bias: y = x · W, W stored [inDim, outDim] (row-major, as MatMul reads it). */
export interface Projection {
  weight: Float32Array;
  inDim: number;
  outDim: number;
}

export interface LayerNormParams {
  scale: Float32Array;
  bias: Float32Array;
  epsilon: number;
}

export interface DenseProjection {
  vision: { layerNorm: LayerNormParams; projection: Projection };
  text: { projection: Projection };
  /** How each part was found (recorded in the manifest-facing description). */
  how: string[];
}

const PASS_THROUGH = new Set(['Gather', 'Slice', 'Squeeze', 'Unsqueeze', 'Reshape', 'Identity', 'Flatten']);

interface Walk {
  file: string;
  index: GraphIndex;
  readInit: (name: string) => Promise<FloatTensor | undefined>;
  producer: (name: string) => NodeHeader | undefined;
  attributeFloat: (node: NodeHeader, name: string) => Promise<number | undefined>;
}

/** The projection MatMul before graph output `output`, and the input it projects. */
async function projectionBefore(w: Walk, output: string): Promise<{ projection: Projection; input: string }> {
  let node = w.producer(output);
  // A combined export normalises (Div by ReduceL2); a tower export ends at the MatMul.
  while (node && (node.opType === 'Div' || node.opType === 'Identity')) node = w.producer(node.inputs[0] ?? '');
  if (node?.opType !== 'MatMul') throw new PerceiveError('bad-model', `${w.file}: ${output} is not computed by a projection MatMul this reader recognises`);
  const weightName = node.inputs[1] ?? '';
  let tensor = await w.readInit(weightName);
  let transposed = false;
  if (!tensor) {
    const t = w.producer(weightName);
    if (t?.opType === 'Transpose') {
      tensor = await w.readInit(t.inputs[0] ?? '');
      transposed = true;
    }
  }
  if (tensor?.dims.length !== 2) throw new PerceiveError('bad-model', `${w.file}: the MatMul producing ${output} has no 2-D weight initializer`);
  const [rows, cols] = tensor.dims as [number, number];
  if (!transposed) return { projection: { weight: tensor.data, inDim: rows, outDim: cols }, input: node.inputs[0] ?? '' };
  // torch's Linear weight [out, in] behind a Transpose: store it [in, out].
  const weight = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) weight[c * rows + r] = tensor.data[r * cols + c]!;
  return { projection: { weight, inDim: cols, outDim: rows }, input: node.inputs[0] ?? '' };
}

/** post_layernorm: the LayerNormalization node feeding the projection, else the named initializers. */
async function postLayerNorm(w: Walk, input: string, width: number, configEpsilon: number): Promise<{ params: LayerNormParams; how: string }> {
  let node = w.producer(input);
  while (node && PASS_THROUGH.has(node.opType)) node = w.producer(node.inputs[0] ?? '');
  if (node?.opType === 'LayerNormalization') {
    const scale = await w.readInit(node.inputs[1] ?? '');
    const bias = node.inputs[2] ? await w.readInit(node.inputs[2]) : { dims: [width], data: new Float32Array(width) };
    // A float32 attribute: 1e-5 reads back as 9.99999974e-6; the node computes with that value.
    const epsilon = (await w.attributeFloat(node, 'epsilon')) ?? 1e-5;
    if (scale && bias && scale.data.length === width && bias.data.length === width) {
      return {
        params: { scale: scale.data, bias: bias.data, epsilon },
        how: `LayerNormalization(${node.inputs[1]}, ${node.inputs[2] ?? 'no bias'}, ε ${Number(epsilon.toPrecision(6))})`,
      };
    }
  }
  const scale = await w.readInit('vision_model.post_layernorm.weight');
  const bias = await w.readInit('vision_model.post_layernorm.bias');
  if (scale && bias && scale.data.length === width && bias.data.length === width) {
    return {
      params: { scale: scale.data, bias: bias.data, epsilon: configEpsilon },
      how: `vision_model.post_layernorm.{weight,bias}, ε ${configEpsilon} (config.json)`,
    };
  }
  throw new PerceiveError(
    'bad-model',
    `${w.file}: no post_layernorm found (neither a LayerNormalization before the projection nor initializers vision_model.post_layernorm.weight/bias of width ${width})`,
  );
}

async function walkFile<T>(file: string, visit: (w: Walk) => Promise<T>): Promise<T> {
  return openOnnx(file, async (bytes) => {
    const index = await readGraphIndex(bytes, new Set(['LayerNormalization']));
    if (!index) throw new PerceiveError('bad-model', `${file} holds no ONNX graph`);
    const w: Walk = {
      file,
      index,
      readInit: (name) => readFloatInitializer(bytes, index, name, file),
      producer: (name) => index.nodes.find((n) => n.outputs.includes(name)),
      attributeFloat: async (node, name) => {
        for (const a of node.attributes) {
          const attribute = onnxProto.onnx.AttributeProto.decode(await bytes.bytes(a.start, a.end - a.start));
          if (attribute.name === name && typeof attribute.f === 'number') return attribute.f;
        }
        return undefined;
      },
    };
    return visit(w);
  });
}

/**
 * Reads the dense projection of a CLIP folder with separate towers (`onnx/text_model.onnx`,
 * `onnx/vision_model.onnx`). `visionWidth` is the vision hidden size, `epsilon` config.json's
 * `vision_config.layer_norm_eps` (used only when the graph spells the layer norm out).
 */
export async function readDenseProjection(dir: string, files: { text: string; vision: string }, epsilon: number): Promise<DenseProjection> {
  const how: string[] = [];
  const vision = await walkFile(path.join(dir, files.vision), async (w) => {
    const { projection, input } = await projectionBefore(w, 'image_embeds');
    const ln = await postLayerNorm(w, input, projection.inDim, epsilon);
    how.push(`vision: ${ln.how}, then the ${projection.inDim}×${projection.outDim} MatMul before image_embeds`);
    return { layerNorm: ln.params, projection };
  });
  const text = await walkFile(path.join(dir, files.text), async (w) => {
    const { projection } = await projectionBefore(w, 'text_embeds');
    how.push(`text: the ${projection.inDim}×${projection.outDim} MatMul before text_embeds`);
    return { projection };
  });
  if (text.projection.outDim !== vision.projection.outDim) {
    throw new PerceiveError('bad-model', `${dir}: text projection gives ${text.projection.outDim} dimensions, vision ${vision.projection.outDim}`);
  }
  return { vision, text, how };
}
