import { z } from 'zod';
import { encodeEmbedding } from './embedding-codec.js';

/** The embeddings a probe arm can record. */
export const ProbeEmbeddingSchema = z.enum(['image_embeds', 'pooled', 'vlm2vec']);
export type ProbeEmbedding = z.infer<typeof ProbeEmbeddingSchema>;

/** How the report fits the probe (the arm's config; part of its task hash). */
export const ProbeSettingsSchema = z.strictObject({
  embedding: ProbeEmbeddingSchema,
  folds: z.number().int().min(2).max(50),
  l2: z.number().positive(),
  seed: z.number().int().nonnegative(),
});
export type ProbeSettings = z.infer<typeof ProbeSettingsSchema>;

/**
 * What a probe arm records in a sample's `extra`: one frozen embedding per image of the item
 * (embedding-codec.ts) and the settings. Its score matrix is a placeholder of zeros
 * (`probe_pending`): the cross-validated probe is fitted over all items at report time
 * (src/analysis/probe.ts), which replaces it with the held-out class probabilities.
 */
export const ProbeExtraSchema = z.object({
  probe_features: z.array(z.string().min(1)).min(1),
  probe_settings: ProbeSettingsSchema,
  probe_pending: z.literal(true),
});
export type ProbeExtra = z.infer<typeof ProbeExtraSchema>;

export function probeExtra(embeddings: Float32Array[], settings: ProbeSettings): ProbeExtra {
  return { probe_features: embeddings.map(encodeEmbedding), probe_settings: settings, probe_pending: true };
}
