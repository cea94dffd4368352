import type { Item, ScoreMatrix } from '../core/item.js';
import type { LoadedImage } from '../core/image.js';

/** Aggregated llama-server timings of the calls behind one sample. */
export interface SampleTimings {
  calls: number;
  promptTokens: number;
  cachedTokens: number;
  promptMs: number;
  predictedMs: number;
}

export interface ArmOutput {
  /** `scores[image][option]`, higher = better match. */
  scores: ScoreMatrix;
  /** Arm-specific per-option values recorded beside the scores (e.g. P(Yes) alone). */
  extra: Record<string, unknown>;
  timings?: SampleTimings;
}

/**
 * An arm: one way of answering an item. Every arm fills the same score matrix, so every
 * benchmark metric applies to every arm unchanged.
 */
export interface Arm {
  /** e.g. `clip`, `vlm.vqascore`. */
  readonly id: string;
  /** The model name from the config. */
  readonly model: string;
  /** sha256 of the model files. */
  readonly modelHash: string;
  readonly prompt: { id: string; version: number } | undefined;
  /** Parameters that change what the arm computes (prompt variant, λ…); part of every task hash. */
  readonly params?: unknown;
  /** Optional batched work before scoring (e.g. CLIP encodes every unique image and caption once). */
  prepare?(items: Item[], images: (file: string) => Promise<LoadedImage>): Promise<void>;
  score(item: Item, images: LoadedImage[]): Promise<ArmOutput>;
}

export function emptyTimings(): SampleTimings {
  return { calls: 0, promptTokens: 0, cachedTokens: 0, promptMs: 0, predictedMs: 0 };
}
