import type { ContrastiveEncoder, ImageInput } from '../runners/runner.js';

interface Pending<T> {
  inputs: T[];
  resolve: (v: Float32Array[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Gathers the encode calls that arrive within a few milliseconds (the bundles a worker holds at
 * once, one per slot) into one batched call, so CLIP in a worker does not degrade to batch 1.
 * A failed batch is retried one request at a time, so only the bad input fails.
 */
export class BatchingEncoder implements ContrastiveEncoder {
  private readonly images: Array<Pending<ImageInput>> = [];
  private readonly texts: Array<Pending<string>> = [];
  private imageTimer: NodeJS.Timeout | undefined;
  private textTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: ContrastiveEncoder,
    private readonly batchSize: number,
    private readonly windowMs = 10,
  ) {}

  get modelHash(): string {
    return this.inner.modelHash;
  }

  encodeImages(images: ImageInput[]): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      this.images.push({ inputs: images, resolve, reject });
      if (this.images.reduce((n, p) => n + p.inputs.length, 0) >= this.batchSize) this.flushImages();
      else this.imageTimer ??= setTimeout(() => this.flushImages(), this.windowMs);
    });
  }

  encodeTexts(texts: string[]): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      this.texts.push({ inputs: texts, resolve, reject });
      this.textTimer ??= setTimeout(() => this.flushTexts(), this.windowMs);
    });
  }

  private flushImages(): void {
    clearTimeout(this.imageTimer);
    this.imageTimer = undefined;
    void run(this.images.splice(0), (x) => this.inner.encodeImages(x));
  }

  private flushTexts(): void {
    clearTimeout(this.textTimer);
    this.textTimer = undefined;
    void run(this.texts.splice(0), (x) => this.inner.encodeTexts(x));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

async function run<T>(batch: Array<Pending<T>>, encode: (inputs: T[]) => Promise<Float32Array[]>): Promise<void> {
  if (batch.length === 0) return;
  try {
    const all = await encode(batch.flatMap((p) => p.inputs));
    let k = 0;
    for (const p of batch) {
      p.resolve(all.slice(k, k + p.inputs.length));
      k += p.inputs.length;
    }
  } catch (error) {
    if (batch.length === 1) {
      batch[0]!.reject(error);
      return;
    }
    for (const p of batch) await encode(p.inputs).then(p.resolve, p.reject);
  }
}
