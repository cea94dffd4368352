/**
 * Arrays an arm hands back for files rather than for samples.jsonl (`clip.dense`'s patch × token
 * cosine maps): `extra.array_files.<name> = {dtype: 'float32', shape, data_base64, …meta}` in the
 * stored result becomes `<run>/<name>/<arm id>/<item id>.npy` (NumPy format 1.0, little-endian
 * float32, C order; `numpy.load` reads it), and the sample keeps `{file, dtype, shape, …meta}` with
 * the path relative to the run folder. Written when samples.jsonl is, from the store, so a resumed
 * run writes the files of every result it has.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RunDirectory } from '../store/run-directory.js';

const ArrayPayloadSchema = z.looseObject({
  dtype: z.literal('float32'),
  shape: z.array(z.number().int().nonnegative()),
  data_base64: z.string(),
});

/** A path segment safe on every file system: anything but letters, digits, ".", "_", "-" becomes "_"; no "." or "..". */
function segment(s: string): string {
  const safe = s.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? `_${safe}` : safe;
}

/** The .npy bytes (format version 1.0) of a float32 array in C order. */
export function npyBytes(shape: number[], data: Uint8Array): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header}${' '.repeat(total - 10 - header.length - 1)}\n`;
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

/**
 * Writes the arrays of one result and returns its `extra` with each array replaced by its file.
 * An entry that is not a well-formed array is left as it is (never a lost result).
 */
export function writeArrayFiles(run: RunDirectory, itemId: string, armId: string, extra: Record<string, unknown>): Record<string, unknown> {
  const files = extra.array_files;
  if (!files || typeof files !== 'object') return extra;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(files as Record<string, unknown>)) {
    const parsed = ArrayPayloadSchema.safeParse(value);
    const data = parsed.success ? Buffer.from(parsed.data.data_base64, 'base64') : undefined;
    if (!parsed.success || !data || data.length !== 4 * parsed.data.shape.reduce((a, b) => a * b, 1)) {
      out[name] = value;
      continue;
    }
    const { data_base64: _, ...meta } = parsed.data;
    const rel = path.join(segment(name), segment(armId), ...itemId.split('/').map(segment)) + '.npy';
    const target = run.file(rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, npyBytes(parsed.data.shape, data));
    fs.renameSync(tmp, target);
    out[name] = { file: rel.split(path.sep).join('/'), ...meta };
  }
  return { ...extra, array_files: out };
}
