import fs from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { errorMessage, PerceiveError } from '../../core/errors.js';

/**
 * Reading a model folder in the Hugging Face ONNX layout, shared by the encoders on it (CLIP,
 * SigLIP): which files exist, its JSON files, its onnxruntime sessions, and its embedding outputs as
 * normalised rows.
 */

/** Model files by layout; paths relative to the folder. */
export const SEPARATE = { text: 'onnx/text_model.onnx', vision: 'onnx/vision_model.onnx' } as const;
export const COMBINED = 'onnx/model.onnx';

export async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * A JSON file of the folder. A missing one fails with the folder's expected `layout`, or gives
 * undefined when it is optional.
 */
export async function readFolderJson(dir: string, name: string, options: { layout: string; optional?: boolean }): Promise<unknown> {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (options.optional) return undefined;
      throw new PerceiveError('bad-model', `${dir}: missing ${name}; ${options.layout}`);
    }
    throw new PerceiveError('bad-model', `cannot read ${file}: ${errorMessage(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PerceiveError('bad-model', `${file} is not valid JSON: ${errorMessage(error)}`);
  }
}

/**
 * onnxruntime's intra-op threads wait without spinning (`session.intra_op.allow_spinning` 0). A
 * spinning thread burns its core between parallel sections; in a run that core belongs to the
 * image decoding of the next batch, another model's worker or llama-server on the same host.
 * Inference alone is as fast either way here (B/32, 12 layers, 2 cores, best of 9: 24.18 ms per
 * image spinning, 24.40 not; 29.28 and 29.05 in another round).
 */
export const NO_SPINNING = { session: { intra_op: { allow_spinning: '0' } } } as const;

/** The encoders' session options (openOnnxSessions below); bench/clip.ts opens its bare session with them too. */
export function encoderSessionOptions(providers: string[], threads: number | undefined): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
    extra: NO_SPINNING,
  };
}

/**
 * Opens one onnxruntime session per model file (relative to `root`, in order) on `providers`, with
 * the encoders' session options: full graph optimisation, sequential execution, one inter-op
 * thread, warnings off, no spinning, `threads` intra-op threads (onnxruntime's default when undefined). A file
 * onnxruntime cannot load is a PerceiveError('bad-model') naming it; the sessions opened before it
 * are released first.
 */
export async function openOnnxSessions(
  root: string,
  files: readonly string[],
  providers: string[],
  threads: number | undefined,
): Promise<ort.InferenceSession[]> {
  const sessionOptions = encoderSessionOptions(providers, threads);
  const sessions: ort.InferenceSession[] = [];
  for (const rel of files) {
    try {
      sessions.push(await ort.InferenceSession.create(path.join(root, rel), sessionOptions));
    } catch (error) {
      for (const opened of sessions) await opened.release();
      throw new PerceiveError('bad-model', `onnxruntime cannot load ${path.join(root, rel)}: ${errorMessage(error)}`);
    }
  }
  return sessions;
}

/** L2-normalised copy of a row (accumulated in float64). A zero row stays zero. */
export function l2Normalise(row: Float32Array): Float32Array {
  let sum = 0;
  for (const v of row) sum += v * v;
  const out = new Float32Array(row.length);
  if (sum === 0) return out;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < row.length; i++) out[i] = (row[i] ?? 0) * inv;
  return out;
}

/** Splits an output [rows, dim] of `model` (CLIP, SigLIP) into normalised rows. */
export function embeddingRows(output: ort.Tensor | undefined, rows: number, name: string, model: string): Float32Array[] {
  if (output?.type !== 'float32' || output.dims.length !== 2 || output.dims[0] !== rows) {
    throw new PerceiveError(
      'bad-model',
      `${model} output ${name} has shape [${output?.dims.join(', ') ?? ''}] (${output?.type ?? 'missing'}), expected [${rows}, dim] float32`,
    );
  }
  const data = output.data as Float32Array;
  const dim = Number(output.dims[1]);
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) out.push(l2Normalise(data.subarray(r * dim, (r + 1) * dim)));
  return out;
}
