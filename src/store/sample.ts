import { z } from 'zod';

/**
 * One line of samples.jsonl: one item answered by one arm. A failed item is a sample with
 * status 'failed' and its reason; it never has scores, and never counts as right or wrong.
 */
export const SampleSchema = z.object({
  run_id: z.string(),
  task: z.string(),
  item: z.string(),
  benchmark: z.string(),
  subset: z.string(),
  arm: z.string(),
  /** The arm's kind (the config's `arm:`, e.g. `vlm.two-image`) whatever its id or label; absent in older runs. */
  arm_kind: z.string().optional(),
  model: z.string(),
  model_hash: z.string(),
  prompt: z.object({ id: z.string(), version: z.number() }).nullable(),
  images: z.array(z.object({ path: z.string(), sha256: z.string() })),
  options: z.array(z.string()),
  correct_option: z.number().int(),
  status: z.enum(['ok', 'failed']),
  scores: z.array(z.array(z.number())).nullable(),
  prediction: z.number().int().nullable(),
  correct: z.boolean().nullable(),
  extra: z.record(z.string(), z.unknown()).default({}),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  latency_ms: z.number(),
  timings: z
    .object({
      calls: z.number(),
      promptTokens: z.number(),
      cachedTokens: z.number(),
      promptMs: z.number(),
      predictedMs: z.number(),
    })
    .nullable(),
  groups: z.record(z.string(), z.string()).default({}),
  source: z.object({ file: z.string(), row: z.number() }),
  finished_at: z.string(),
});

export type Sample = z.infer<typeof SampleSchema>;
