/**
 * Walking an ONNX file's graph on disk, shared by the readers of trained parameters (SigLIP's logit
 * scale and bias, CLIP's post-layernorm and projections for the dense arm). Real exports are
 * hundreds of MB: the protobuf is walked field by field, reading node headers and initializer names
 * only and skipping every weight's bytes; only the tensors asked for are read and decoded (from the
 * file itself or, for exports with external data, from the file their `location` names).
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { errorMessage, PerceiveError } from '../../core/errors.js';

const { onnx } = onnxProto;

const CHUNK = 1 << 16;

/** Random access to a file with a small read-ahead buffer. */
export class FileBytes {
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

export interface Field {
  field: number;
  /** For length-delimited fields: the payload's range. */
  start: number;
  end: number;
}

/** The length-delimited fields of a message in [start, end); other wire types are skipped. */
export async function fields(file: FileBytes, start: number, end: number, stopAfter?: (f: Field) => boolean): Promise<Field[]> {
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

export const fieldText = async (file: FileBytes, f: Field): Promise<string> => (await file.bytes(f.start, f.end - f.start)).toString('utf8');

export interface NodeHeader {
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Attribute messages (kept only for the op types asked for, e.g. Constant). */
  attributes: Field[];
}

/** A graph's nodes (headers) and where each initializer's TensorProto lies in the file. */
export interface GraphIndex {
  nodes: NodeHeader[];
  initializers: Map<string, Field>;
}

/**
 * Indexes the graph of the model in `bytes`; `keepAttributes`: the op types whose attribute
 * messages are kept. Undefined when the file has no graph.
 */
export async function readGraphIndex(bytes: FileBytes, keepAttributes: ReadonlySet<string>): Promise<GraphIndex | undefined> {
  const graph = (await fields(bytes, 0, bytes.size, (f) => f.field === 7)).find((f) => f.field === 7);
  if (!graph) return undefined;
  const nodes: NodeHeader[] = [];
  const initializers = new Map<string, Field>();
  for (const f of await fields(bytes, graph.start, graph.end)) {
    if (f.field === 1) {
      const node: NodeHeader = { opType: '', inputs: [], outputs: [], attributes: [] };
      for (const g of await fields(bytes, f.start, f.end)) {
        if (g.field === 1) node.inputs.push(await fieldText(bytes, g));
        else if (g.field === 2) node.outputs.push(await fieldText(bytes, g));
        else if (g.field === 4) node.opType = await fieldText(bytes, g);
        else if (g.field === 5) node.attributes.push(g);
      }
      if (!keepAttributes.has(node.opType)) node.attributes = [];
      nodes.push(node);
    } else if (f.field === 5) {
      const name = (await fields(bytes, f.start, f.end, (g) => g.field === 8)).find((g) => g.field === 8);
      if (name) initializers.set(await fieldText(bytes, name), f);
    }
  }
  return { nodes, initializers };
}

/** Opens `file` for a walk; any failure to open is a PerceiveError('bad-model') naming it. */
export async function openOnnx<T>(file: string, walk: (bytes: FileBytes) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (error) {
    throw new PerceiveError('bad-model', `cannot read ${file}: ${errorMessage(error)}`);
  }
  try {
    return await walk(new FileBytes(fh, (await fh.stat()).size));
  } catch (error) {
    if (error instanceof PerceiveError) throw error;
    throw new PerceiveError('bad-model', `${file} is not an ONNX model this reader can walk: ${errorMessage(error)}`);
  } finally {
    await fh.close();
  }
}

/** A float32 tensor read from a graph: its dims and values. */
export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

/** The largest initializer message read whole (a projection of a large CLIP is a few MB). */
const MAX_TENSOR_MESSAGE = 1 << 30;

/**
 * The float32 initializer `name` of the graph in `file` (`index` from readGraphIndex), read from
 * raw_data, float_data or external data beside the file. Undefined when there is no such initializer.
 */
export async function readFloatInitializer(bytes: FileBytes, index: GraphIndex, name: string, file: string): Promise<FloatTensor | undefined> {
  const at = index.initializers.get(name);
  if (!at) return undefined;
  if (at.end - at.start > MAX_TENSOR_MESSAGE) throw new PerceiveError('bad-model', `${file}: initializer ${name} is too large to read`);
  const tensor = onnx.TensorProto.decode(await bytes.bytes(at.start, at.end - at.start));
  const dims = (tensor.dims ?? []).map((d) => Number(String(d))); // int64 dims may be Longs
  const count = dims.reduce((n, d) => n * d, 1);
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) {
    throw new PerceiveError('bad-model', `${file}: initializer ${name} is ONNX data type ${tensor.dataType}; only float32 is supported`);
  }
  let raw: Uint8Array | undefined = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : undefined;
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) raw = await readExternal(tensor, file, name);
  const data = new Float32Array(count);
  if (raw) {
    if (raw.length !== count * 4) throw new PerceiveError('bad-model', `${file}: initializer ${name} holds ${raw.length} bytes for dims [${dims.join(', ')}]`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  } else {
    const values = tensor.floatData ?? [];
    if (values.length !== count)
      throw new PerceiveError('bad-model', `${file}: initializer ${name} holds ${values.length} values for dims [${dims.join(', ')}]`);
    data.set(values);
  }
  return { dims, data };
}

/** The bytes of an initializer stored outside the model file (`location`, `offset`, `length`). */
async function readExternal(tensor: OnnxTypes.TensorProto, file: string, name: string): Promise<Uint8Array> {
  const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location || path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
    throw new PerceiveError('bad-model', `${file}: initializer ${name} names no usable external data location (${location ?? 'none'})`);
  }
  const dataFile = path.join(path.dirname(file), location);
  const offset = Number(entries.get('offset') ?? 0);
  const stat = await fs.stat(dataFile).catch(() => null);
  if (!stat) throw new PerceiveError('bad-model', `${file}: initializer ${name} is stored in ${dataFile}, which cannot be read`);
  const length = Number(entries.get('length') ?? stat.size - offset);
  const fh = await fs.open(dataFile, 'r');
  try {
    const out = Buffer.alloc(length);
    const { bytesRead } = await fh.read(out, 0, length, offset);
    if (bytesRead !== length) throw new PerceiveError('bad-model', `${dataFile}: short read of initializer ${name}`);
    return out;
  } finally {
    await fh.close();
  }
}

/**
 * Named float32 initializers of the graph in `file` (e.g. CLIP's `vision_model.post_layernorm.weight`),
 * walked on disk: only the index and the named tensors are read, never the whole model. A name that
 * is missing fails with PerceiveError('bad-model') naming the file and the tensor.
 */
export async function readFloatInitializers(file: string, names: readonly string[]): Promise<Map<string, Float32Array>> {
  return openOnnx(file, async (bytes) => {
    const index = await readGraphIndex(bytes, new Set());
    if (!index) throw new PerceiveError('bad-model', `${file} holds no ONNX graph`);
    const out = new Map<string, Float32Array>();
    for (const name of names) {
      const tensor = await readFloatInitializer(bytes, index, name, file);
      if (!tensor) throw new PerceiveError('bad-model', `${file} has no initializer ${name}`);
      out.set(name, tensor.data);
    }
    return out;
  });
}
