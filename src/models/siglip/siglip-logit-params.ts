/**
 * Where a SigLIP folder keeps its trained logit scale and bias. The tower exports
 * (text_model.onnx, vision_model.onnx) do not hold them; the combined SiglipModel export
 * (onnx/model.onnx) does, as the initializers `logit_scale` (log space; an Exp node follows) and
 * `logit_bias`, or, after torch.onnx's constant folding, with exp(logit_scale) folded into an
 * unnamed constant feeding the Mul before `Add(…, logit_bias)`. Failing the ONNX graph, config.json
 * may carry them as top-level numbers `logit_scale` (log space) and `logit_bias`.
 *
 * Real model.onnx files are hundreds of MB: the graph is walked as protobuf on disk, reading node
 * headers and initializer names only and skipping every weight's bytes; just the scalars needed
 * are read and decoded.
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { z } from 'zod';
import { errorMessage, PerceiveError } from '../../core/errors.js';
import type { SiglipLogitParams } from './siglip-score.js';

const { onnx } = onnxProto;

const CHUNK = 1 << 16;

/** Random access to a file with a small read-ahead buffer. */
class FileBytes {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  async bytes(pos: number, length: number): Promise<Buffer> {
    if (pos < 0 || pos + length > this.size) throw new RangeError(`read past the end (${pos}+${length} > ${this.size})`);
    const offset = pos - this.bufferStart;
    if (offset >= 0 && offset + length <= this.buffer.length) return this.buffer.subarray(offset, offset + length);
    const want = Math.min(Math.max(length, CHUNK), this.size - pos);
    const buffer = Buffer.alloc(want);
    const { bytesRead } = await this.fh.read(buffer, 0, want, pos);
    if (bytesRead < length) throw new RangeError(`short read at ${pos}`);
    this.buffer = buffer.subarray(0, bytesRead);
    this.bufferStart = pos;
    return this.buffer.subarray(0, length);
  }

  /** A base-128 varint at pos (numbers up to 2^53): [value, position after it]. */
  async varint(pos: number): Promise<[number, number]> {
    const b = await this.bytes(pos, Math.min(10, this.size - pos));
    let value = 0;
    let factor = 1;
    for (let i = 0; i < b.length; i++) {
      const byte = b[i] as number;
      value += (byte & 0x7f) * factor;
      if (byte < 0x80) return [value, pos + i + 1];
      factor *= 128;
    }
    throw new RangeError(`bad varint at ${pos}`);
  }
}

interface Field {
  field: number;
  /** For length-delimited fields: the payload's range. */
  start: number;
  end: number;
}

/** The length-delimited fields of a message in [start, end); other wire types are skipped. */
async function fields(file: FileBytes, start: number, end: number, stopAfter?: (f: Field) => boolean): Promise<Field[]> {
  const out: Field[] = [];
  let pos = start;
  while (pos < end) {
    const [tag, p] = await file.varint(pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) pos = (await file.varint(p))[1];
    else if (wire === 1) pos = p + 8;
    else if (wire === 5) pos = p + 4;
    else if (wire === 2) {
      const [length, q] = await file.varint(p);
      const f = { field, start: q, end: q + length };
      out.push(f);
      pos = f.end;
      if (stopAfter?.(f)) break;
    } else throw new RangeError(`unsupported protobuf wire type ${wire} at ${pos}`);
    if (pos > end) throw new RangeError(`field ${field} runs past its message (${pos} > ${end})`);
  }
  return out;
}

const text = async (file: FileBytes, f: Field): Promise<string> => (await file.bytes(f.start, f.end - f.start)).toString('utf8');

interface NodeHeader {
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Attribute messages (only kept for Constant nodes). */
  attributes: Field[];
}

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
  let fh: FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (error) {
    throw new PerceiveError('bad-model', `cannot read ${file}: ${errorMessage(error)}`);
  }
  try {
    const bytes = new FileBytes(fh, (await fh.stat()).size);
    const graph = (await fields(bytes, 0, bytes.size, (f) => f.field === 7)).find((f) => f.field === 7);
    if (!graph) return undefined;
    const nodes: NodeHeader[] = [];
    const initializers = new Map<string, Field>();
    for (const f of await fields(bytes, graph.start, graph.end)) {
      if (f.field === 1) {
        const node: NodeHeader = { opType: '', inputs: [], outputs: [], attributes: [] };
        for (const g of await fields(bytes, f.start, f.end)) {
          if (g.field === 1) node.inputs.push(await text(bytes, g));
          else if (g.field === 2) node.outputs.push(await text(bytes, g));
          else if (g.field === 4) node.opType = await text(bytes, g);
          else if (g.field === 5) node.attributes.push(g);
        }
        if (node.opType !== 'Constant') node.attributes = [];
        nodes.push(node);
      } else if (f.field === 5) {
        const name = (await fields(bytes, f.start, f.end, (g) => g.field === 8)).find((g) => g.field === 8);
        if (name) initializers.set(await text(bytes, name), f);
      }
    }
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
  } catch (error) {
    if (error instanceof PerceiveError) throw error;
    throw new PerceiveError('bad-model', `${file} is not an ONNX model this reader can walk: ${errorMessage(error)}`);
  } finally {
    await fh.close();
  }
}

const ConfigLogitsSchema = z.looseObject({ logit_scale: z.number().optional(), logit_bias: z.number().optional() });

/** Top-level logit_scale (log space) and logit_bias of config.json, when both are there. */
export function logitParamsFromConfig(config: unknown): { scale: number; bias: number } | undefined {
  const parsed = ConfigLogitsSchema.safeParse(config);
  if (!parsed.success || parsed.data.logit_scale === undefined || parsed.data.logit_bias === undefined) return undefined;
  return { scale: parsed.data.logit_scale, bias: parsed.data.logit_bias };
}
