import { ArmSpecSchema } from '../config/experiment.js';
import type { Sample } from '../store/sample.js';

/** Every arm kind a config can name (`arm:`), longest first. */
const KINDS: readonly string[] = ArmSpecSchema.options.map((o) => o.shape.arm.value as string).sort((a, b) => b.length - a.length);

/**
 * The kind of arm (`clip`, `vlm.two-image`, …) that answered a sample: `arm_kind`, which samples
 * record since issue 12. Older samples lack it: their arm id is then read as the kind or a kind
 * followed by `.<setting>` (`vlm.mcq.model`), the only naming those runs' labels could be told by;
 * an id that is neither (a free label) is its own kind.
 */
export function armKind(sample: Pick<Sample, 'arm' | 'arm_kind'>): string {
  if (sample.arm_kind !== undefined) return sample.arm_kind;
  return KINDS.find((k) => sample.arm === k || sample.arm.startsWith(`${k}.`)) ?? sample.arm;
}
