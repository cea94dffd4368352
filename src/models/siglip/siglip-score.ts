/**
 * SigLIP's score of an (image, text) pair: sigmoid(exp(t)·cos + b), the probability that they
 * match, from the trained logit scale t (log space) and bias b. SiglipModel.forward computes the
 * logits as text_embeds·image_embedsᵀ·exp(logit_scale) + logit_bias on normalised embeddings and
 * its probabilities as their sigmoid
 * (huggingface/transformers@1c51a62f5861390e994db1464e8a51f6d7fbacbc:src/transformers/models/siglip/modeling_siglip.py,
 * SiglipModel.forward). exp(t) > 0, so the score orders pairs as the
 * cosine does, except that far above the bias it saturates to exactly 1 in float64 (real SigLIP:
 * t ≈ 4.7, b ≈ -16.5, so from cos ≈ 0.5) and ties pairs the cosine tells apart: argmax metrics
 * read the cosine; the score is recorded beside it.
 */

/** The trained logit scale (log space, as the logit_scale parameter holds it) and bias. */
export interface SiglipLogitParams {
  scale: number;
  bias: number;
  /** Where they were read from (file and how), for the manifest and error messages. */
  source: string;
}

/** exp(t)·cos + b. */
export function siglipLogit(cos: number, params: Pick<SiglipLogitParams, 'scale' | 'bias'>): number {
  return Math.exp(params.scale) * cos + params.bias;
}

/** sigmoid(exp(t)·cos + b), in float64; stable for large |logit|. */
export function siglipProbability(cos: number, params: Pick<SiglipLogitParams, 'scale' | 'bias'>): number {
  const logit = siglipLogit(cos, params);
  if (logit >= 0) return 1 / (1 + Math.exp(-logit));
  const e = Math.exp(logit);
  return e / (1 + e);
}
