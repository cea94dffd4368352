import { z } from 'zod';

/**
 * One benchmark question as its authors define it. Every arm turns an item into the
 * same score matrix `scores[image][option]`, so every metric is written once.
 */
export const ItemSchema = z.object({
  /** Stable id, unique within a benchmark subset (e.g. `whatsup.controlled_a/17`). */
  id: z.string().min(1),
  benchmark: z.string().min(1),
  subset: z.string().min(1),
  /** Absolute paths of the item's images (one for What'sUp, two for an MMVP pair prompt). */
  images: z.array(z.string().min(1)).min(1),
  /** Caption or answer options; `correct` indexes into this list. */
  options: z.array(z.string()).min(2),
  correct: z.number().int().nonnegative(),
  /** Keys the authors' metric groups by (object pair, preposition, relation type, category…). */
  groups: z.record(z.string(), z.string()).default({}),
  /** Where the item came from: file and row, for error messages and the report. */
  source: z.object({ file: z.string(), row: z.number().int().nonnegative() }),
  /** Extra per-benchmark fields (e.g. the VLM2Vec question). */
  meta: z.record(z.string(), z.unknown()).default({}),
});

export type Item = z.infer<typeof ItemSchema>;

/** `scores[image][option]`, higher = better match. */
export type ScoreMatrix = number[][];
