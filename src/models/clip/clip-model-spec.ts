import { z } from 'zod';

/** A CLIP model in the config: a folder in the Hugging Face ONNX layout, run by onnxruntime-node. */
export const ClipModelSchema = z.strictObject({
  kind: z.literal('clip'),
  /** Folder in the Hugging Face ONNX layout (config.json, tokenizer.json, onnx/…). */
  path: z.string().min(1),
  threads: z.number().int().positive().optional(),
  batch_size: z.number().int().positive().default(8),
});

export type ClipModelSpec = z.output<typeof ClipModelSchema>;
