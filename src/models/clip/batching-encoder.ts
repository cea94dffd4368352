import { PerceiveError } from '../../core/errors.js';
import type { ContrastiveEncoder, DenseEncoder, ImageInput } from '../capabilities.js';

interface Pending<T> {
  inputs: T[];
  resolve: (v: Float32Array[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Gathers the encode calls that arrive in the same turn of the event loop, or while the previous
 * batch runs (the bundles a worker holds at once, one per slot), into one batched call, so CLIP
 * in a worker does not degrade to batch 1. No call waits for company that may never come: a lone
 * call runs at once (a 10 ms gathering window used to cost every bundle of a one-slot worker
 * 10 ms); under load, calls pile up behind the running batch and go together. `windowMs` > 0
 * restores a timed window.
 * A failed batch is retried one request at a time, so only the bad input fails.
 */
export class BatchingEncoder implements ContrastiveEncoder {
  private readonly images: Array<Pending<ImageInput>> = [];
  private readonly texts: Array<Pending<string>> = [];
  private imageTimer: (() => void) | undefined;
  private textTimer: (() => void) | undefined;

  constructor(
    private readonly inner: ContrastiveEncoder,
    private readonly batchSize: number,
    private readonly windowMs = 0,
  ) {}

  /** Calls `fn` after this turn (windowMs 0) or after the window; returns a canceller. */
  private later(fn: () => void): () => void {
    if (this.windowMs > 0) {
      const t = setTimeout(fn, this.windowMs);
      return () => clearTimeout(t);
    }
    const t = setImmediate(fn);
    return () => clearImmediate(t);
  }
  /** Pooled image features: passed straight to the encoder (the probe asks once per bundle). */
  encodePooledImages(images: ImageInput[]): Promise<Float32Array[]> {
    if (!this.inner.encodePooledImages) return Promise.reject(new PerceiveError('arm-not-applicable', 'this encoder gives no pooled vision output'));
    return this.inner.encodePooledImages(images);
  }

  probability(cosine: number): number | null {
    return this.inner.probability?.(cosine) ?? null;
  }

  get modelHash(): string {
    return this.inner.modelHash;
  }

  /** The inner encoder's dense encoder, unbatched across bundles (each bundle's prepare batches its own). */
  get dense(): DenseEncoder | undefined {
    return this.inner.dense;
  }

  encodeImages(images: ImageInput[]): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      this.images.push({ inputs: images, resolve, reject });
      if (this.images.reduce((n, p) => n + p.inputs.length, 0) >= this.batchSize) this.flushImages();
      else this.imageTimer ??= this.later(() => this.flushImages());
    });
  }

  encodeTexts(texts: string[]): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      this.texts.push({ inputs: texts, resolve, reject });
      this.textTimer ??= this.later(() => this.flushTexts());
    });
  }

  // One call in flight per kind: requests that arrive meanwhile wait and go together next.
  private imagesBusy = false;
  private textsBusy = false;

  private flushImages(): void {
    this.imageTimer?.();
    this.imageTimer = undefined;
    if (this.imagesBusy || this.images.length === 0) return;
    this.imagesBusy = true;
    void run(this.images.splice(0), (x) => this.inner.encodeImages(x)).finally(() => {
      this.imagesBusy = false;
      this.flushImages();
    });
  }

  private flushTexts(): void {
    this.textTimer?.();
    this.textTimer = undefined;
    if (this.textsBusy || this.texts.length === 0) return;
    this.textsBusy = true;
    void run(this.texts.splice(0), (x) => this.inner.encodeTexts(x)).finally(() => {
      this.textsBusy = false;
      this.flushTexts();
    });
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
