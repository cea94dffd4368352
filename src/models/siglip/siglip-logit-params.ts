/**
 * Where a SigLIP folder keeps its trained logit scale and bias. The tower exports
 * (text_model.onnx, vision_model.onnx) do not hold them; the combined SiglipModel export
 * (onnx/model.onnx) does, as the initializers `logit_scale` (log space; an Exp node follows) and
 * `logit_bias`, or, after torch.onnx's constant folding, with exp(logit_scale) folded into an
 * unnamed constant feeding the Mul before `Add(…, logit_bias)`. Failing the ONNX graph, config.json
 * may carry them as top-level numbers `logit_scale` (log space) and `logit_bias`.
 *
 * Real model.onnx files are hundreds of MB: the graph is walked on disk (`clip/onnx-graph-reader.ts`),
 * skipping every weight's bytes; just the scalars needed are read and decoded.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { z } from 'zod';
import { PerceiveError } from '../../core/errors.js';
import { openOnnx, readGraphIndex } from '../clip/onnx-graph-reader.js';
import type { SiglipLogitParams } from './siglip-score.js';

const { onnx } = onnxProto;

/** One scalar from a TensorProto (float, double or float16; one element). */
function scalarOf(tensor: OnnxTypes.ITensorProto): number | undefined {
  const count = (tensor.dims ?? []).reduce<number>((n, d) => n * Number(String(d)), 1); // int64 dims may be Longs
  if (count !== 1) return undefined;
  const T = onnx.TensorProto.DataType;
  const raw = tensor.rawData && tensor.rawData.length > 0 ? Buffer.from(tensor.rawData) : undefined;
  switch (tensor.dataType) {
    case T.FLOAT:
      return raw ? raw.readFloatLE(0) : tensor.floatData?.[0];
    case T.DOUBLE:
      return raw ? raw.readDoubleLE(0) : tensor.doubleData?.[0];
    case T.FLOAT16: {
      const bits = raw ? raw.readUInt16LE(0) : tensor.int32Data?.[0];
      if (bits === undefined) return undefined;
      const exponent = (bits >> 10) & 0x1f;
      const mantissa = bits & 0x3ff;
      const sign = bits & 0x8000 ? -1 : 1;
      if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
      if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
      return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
    }
    default:
      return undefined;
  }
}

/** The largest tensor message read to look for a scalar: anything bigger is not one. */
const MAX_SCALAR_MESSAGE = 4096;

/**
 * Reads (t, b) from a SiglipModel ONNX graph; undefined when the graph holds no logit_bias. Throws
 * PerceiveError('bad-model') when the file is not a readable ONNX model.
 */
export async function readLogitParamsFromOnnx(file: string): Promise<(Omit<SiglipLogitParams, 'source'> & { how: string }) | undefined> {
  return openOnnx(file, async (bytes) => {
    const index = await readGraphIndex(bytes, new Set(['Constant']));
    if (!index) return undefined;
    const { nodes, initializers } = index;
    const producer = (name: string) => nodes.find((n) => n.outputs.includes(name));
    /** The value of a scalar initializer or Constant node output, else undefined. */
    const scalar = async (name: string): Promise<number | undefined> => {
      const init = initializers.get(name);
      if (init) {
        if (init.end - init.start > MAX_SCALAR_MESSAGE) return undefined;
        return scalarOf(onnx.TensorProto.decode(await bytes.bytes(init.start, init.end - init.start)));
      }
      const node = producer(name);
      if (node?.opType !== 'Constant') return undefined;
      for (const a of node.attributes) {
        if (a.end - a.start > MAX_SCALAR_MESSAGE) continue;
        const attribute = onnx.AttributeProto.decode(await bytes.bytes(a.start, a.end - a.start));
        if (attribute.name === 'value' && attribute.t) return scalarOf(attribute.t);
      }
      return undefined;
    };

    const bias = await scalar('logit_bias');
    if (bias === undefined) return undefined;
    const named = await scalar('logit_scale');
    if (named !== undefined) return { scale: named, bias, how: 'initializers logit_scale, logit_bias' };
    // Folded: Add(Mul(cos, exp_t), logit_bias), exp_t a constant or Exp(constant).
    const add = nodes.find((n) => n.opType === 'Add' && n.inputs.includes('logit_bias'));
    const mul = add && producer(add.inputs.find((i) => i !== 'logit_bias') ?? '');
    if (mul?.opType === 'Mul') {
      for (const input of mul.inputs) {
        const value = await scalar(input);
        if (value !== undefined && value > 0) return { scale: Math.log(value), bias, how: `logit_bias and exp(logit_scale) folded into ${input}` };
        const exp = producer(input);
        const t = exp?.opType === 'Exp' ? await scalar(exp.inputs[0] ?? '') : undefined;
        if (t !== undefined) return { scale: t, bias, how: `logit_bias and Exp(${exp?.inputs[0]})` };
      }
    }
    throw new PerceiveError(
      'bad-model',
      `${file} holds logit_bias but no logit scale this reader recognises (an initializer logit_scale, or a constant in the Mul before Add(…, logit_bias))`,
    );
  });
}

const ConfigLogitsSchema = z.looseObject({ logit_scale: z.number().optional(), logit_bias: z.number().optional() });

/** Top-level logit_scale (log space) and logit_bias of config.json, when both are there. */
export function logitParamsFromConfig(config: unknown): { scale: number; bias: number } | undefined {
  const parsed = ConfigLogitsSchema.safeParse(config);
  if (!parsed.success || parsed.data.logit_scale === undefined || parsed.data.logit_bias === undefined) return undefined;
  return { scale: parsed.data.logit_scale, bias: parsed.data.logit_bias };
}
