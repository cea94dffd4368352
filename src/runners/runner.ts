/**
 * The runner interfaces. A runner wraps one model in one runtime and knows nothing about
 * benchmarks, items or metrics: it encodes images and texts, or answers prompts.
 */

/** An image as the runners receive it: its bytes and their sha256 (hex). */
export interface ImageInput {
  bytes: Buffer;
  sha256: string;
}

/** A contrastive encoder (CLIP) behind onnxruntime. Embeddings are L2-normalised. */
export interface ContrastiveEncoder {
  /** sha256 of the model files, for task hashes and the manifest. */
  readonly modelHash: string;
  encodeImages(images: ImageInput[]): Promise<Float32Array[]>;
  encodeTexts(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Server timings of one llama-server call, as recorded in samples.jsonl. */
export interface CallTimings {
  promptTokens: number;
  cachedTokens: number;
  promptMs: number;
  predictedMs: number;
}

export interface TokenLogprob {
  id: number;
  token: string;
  logprob: number;
}
