/**
 * The siglip model kind: SigLIP and SigLIP2 fixed-resolution ONNX folders (SiglipModel in the
 * Hugging Face / Xenova / onnx-community layout) as a contrastive encoder. Its config member, its
 * start, and what it records beside the cosine (the sigmoid score from the trained logit scale and
 * bias). `arm: clip` ("contrastive matching") runs on it as on a CLIP folder.
 */
import { z } from 'zod';
import { OnnxProviderSchema } from '../clip/onnx-provider.js';

/** The config's model entry of this kind. */
export const SiglipModelSchema = z.strictObject({
  kind: z.literal('siglip'),
  /** Folder in the Hugging Face ONNX layout (config.json with model_type siglip, tokenizer.json, onnx/…). */
  path: z.string().min(1),
  threads: z.number().int().positive().optional(),
  batch_size: z.number().int().positive().default(8),
  /** onnxruntime's execution provider: auto (CUDA when the installed onnxruntime-node has it and it starts, else the CPU), cpu, cuda. */
  provider: OnnxProviderSchema,
});
export type SiglipModelSpec = z.infer<typeof SiglipModelSchema>;
