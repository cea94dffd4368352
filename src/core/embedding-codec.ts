/**
 * A frozen embedding as a sample records it (the probe arms' `extra.probe_features`): the float32
 * values, little-endian, base64. 512 floats take 2,732 characters, a third of a JSON number list.
 */
export function encodeEmbedding(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

/** The inverse of encodeEmbedding; undefined for a string that is not a whole number of float32 values. */
export function decodeEmbedding(text: string): Float32Array | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
