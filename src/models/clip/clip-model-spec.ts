import { z } from 'zod';
import { OnnxProviderSchema } from './onnx-provider.js';

/** A CLIP model in the config: a folder in the Hugging Face ONNX layout, run by onnxruntime-node. */
export const ClipModelSchema = z.strictObject({
  kind: z.literal('clip'),
  /** Folder in the Hugging Face ONNX layout (config.json, tokenizer.json, onnx/…). */
  path: z.string().min(1),
  threads: z.number().int().positive().optional(),
  batch_size: z.number().int().positive().default(8),
  /** onnxruntime's execution provider: auto (CUDA when the installed onnxruntime-node has it and it starts, else the CPU), cpu, cuda. */
  provider: OnnxProviderSchema,
});

export type ClipModelSpec = z.output<typeof ClipModelSchema>;
