import { z } from 'zod';
import { OptionOrderSchema } from '../core/option-order.js';
import type { Sample } from '../store/sample.js';

/**
 * What a letter-scored arm records about its option order in a sample's `extra`
 * (core/option-order.ts `OptionOrderExtra`), validated where the analysis reads it: a sample of an
 * older run, or of an arm without option orders, has none and is left out of the option-order views.
 */
export const OptionOrderExtraSchema = z.object({
  option_order: OptionOrderSchema,
  option_permutations: z.array(z.array(z.number().int().nonnegative())).min(1),
  position_picks: z.array(z.array(z.number().int())),
  position_correct: z.array(z.array(z.number().int())),
  round_scores: z.array(z.array(z.array(z.number()))),
});
export type OptionOrderRecord = z.infer<typeof OptionOrderExtraSchema>;

/** The sample's option-order record, or undefined (failed sample, older run, arm without one). */
export function optionOrderRecord(s: Sample): OptionOrderRecord | undefined {
  if (s.status !== 'ok') return undefined;
  const parsed = OptionOrderExtraSchema.safeParse(s.extra);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  const rounds = r.option_permutations.length;
  if (r.position_picks.length !== rounds || r.position_correct.length !== rounds || r.round_scores.length !== rounds) return undefined;
  return r;
}

/** The effective option orders of an arm's samples on a benchmark (one, unless the config changed between stored results). */
export function optionOrdersOf(samples: Sample[]): string[] {
  return [...new Set(samples.map((s) => optionOrderRecord(s)?.option_order).filter((o): o is NonNullable<typeof o> => o !== undefined))].sort();
}
