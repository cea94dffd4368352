import fs from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { errorMessage, PerceiveError } from '../../core/errors.js';

const { onnx } = onnxProto;

/**
 * Named float32 initializers of an ONNX graph (e.g. CLIP's `vision_model.post_layernorm.weight`),
 * read from the file itself. The model is decoded whole, once per call: callers read a few small
 * tensors once per model. A name missing, not float32, or stored as external data fails with
 * PerceiveError('bad-model') naming the file and the tensor.
 */
export async function readFloatInitializers(file: string, names: readonly string[]): Promise<Map<string, Float32Array>> {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(await fs.readFile(file));
  } catch (error) {
    throw new PerceiveError('bad-model', `cannot read the ONNX graph of ${file}: ${errorMessage(error)}`);
  }
  const out = new Map<string, Float32Array>();
  for (const name of names) {
    const tensor = model.graph?.initializer?.find((t) => t.name === name);
    if (!tensor) throw new PerceiveError('bad-model', `${file} has no initializer ${name}`);
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) throw new PerceiveError('bad-model', `${file}: initializer ${name} is not float32`);
    if (tensor.rawData && tensor.rawData.length > 0) {
      const raw = Buffer.from(tensor.rawData);
      out.set(
        name,
        Float32Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(i * 4)),
      );
    } else if (tensor.floatData && tensor.floatData.length > 0) out.set(name, Float32Array.from(tensor.floatData));
    else throw new PerceiveError('bad-model', `${file}: initializer ${name} holds no data in the graph (external data is not read)`);
  }
  return out;
}
