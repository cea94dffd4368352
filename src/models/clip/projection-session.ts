/**
 * The dense projections as one small onnxruntime graph each, built in memory from the weights read
 * off the model files: rows [n, width] → (LayerNormalization →) MatMul → [n, dim]. onnxruntime's
 * GEMM does in milliseconds what a JavaScript loop takes seconds for (577 patches × 1024 × 768 for
 * ViT-L/14-336).
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { LayerNormParams, Projection } from './dense-projection.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

const tensor = (name: string, dims: number[], data: Float32Array) => ({
  name,
  dims,
  dataType: FLOAT,
  rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});

const rows = (name: string, width: number) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'rows' }, { dimValue: width }] } } },
});

/** The ONNX bytes of rows → optional layer norm → projection (opset 17, IR 8). */
export function projectionModel(projection: Projection, layerNorm?: LayerNormParams): Uint8Array {
  const nodes: Array<Record<string, unknown>> = [];
  const initializer = [tensor('projection', [projection.inDim, projection.outDim], projection.weight)];
  let x = 'rows';
  if (layerNorm) {
    initializer.push(tensor('ln_scale', [projection.inDim], layerNorm.scale), tensor('ln_bias', [projection.inDim], layerNorm.bias));
    nodes.push({
      name: 'post_layernorm',
      opType: 'LayerNormalization',
      input: [x, 'ln_scale', 'ln_bias'],
      output: ['normed'],
      attribute: [
        { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 },
        { name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: layerNorm.epsilon },
      ],
    });
    x = 'normed';
  }
  nodes.push({ name: 'projection', opType: 'MatMul', input: [x, 'projection'], output: ['projected'] });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'perceive-dense-projection',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'dense_projection', node: nodes, initializer, input: [rows('rows', projection.inDim)], output: [rows('projected', projection.outDim)] },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A session running the projection; `threads`: onnxruntime intra-op threads (default: its own). */
export async function projectionSession(projection: Projection, layerNorm: LayerNormParams | undefined, threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(projectionModel(projection, layerNorm), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
  });
}

/** rows [n, inDim] → [n, outDim] through the session. */
export async function project(session: ort.InferenceSession, data: Float32Array, n: number, inDim: number): Promise<Float32Array> {
  const out = await session.run({ rows: new ort.Tensor('float32', data, [n, inDim]) });
  return out.projected!.data as Float32Array;
}
