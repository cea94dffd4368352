import { z } from 'zod';

/**
 * The config fields every probe arm shares (`probe` on a contrastive model, `vlm2vec.probe` on a
 * llama.cpp VLM): how the report's cross-validated linear probe is fitted on the embeddings the arm
 * records (src/analysis/probe.ts). They are part of the arm's task hash, so a changed setting is a
 * new result rather than a stale one.
 */
export const probeFields = {
  /** k of the grouped k-fold cross-validation. */
  folds: z.number().int().min(2).max(50).default(5),
  /** L2 strength λ: mean cross-entropy + λ/2·‖W‖² on standardised features. */
  l2: z.number().positive().default(0.01),
  /** Seed of the fold assignment. */
  seed: z.number().int().nonnegative().default(0),
};
