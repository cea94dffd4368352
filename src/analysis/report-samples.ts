import type { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import { ProbeExtraSchema } from '../core/probe-features.js';
import { OptionOrderExtraSchema } from './option-order-extra.js';

/**
 * The `extra` fields the analysis reads (the option-order views read every field of
 * OptionOrderExtraSchema); the rest (raw answers, token counts…) stays in samples.jsonl.
 */
const EXTRA_KEYS = [
  'image_pair_cosine',
  'relaxed_pair',
  'unparseable',
  ...OptionOrderExtraSchema.keyof().options,
  ...ProbeExtraSchema.keyof().options,
] as const;

/**
 * The samples of a run as the report needs them, read a chunk of samples.jsonl at a time
 * (`RunDirectory.eachSample`) and kept small: what every arm's sample of one item repeats (images,
 * options, groups, source) is held once per item, repeated strings once per run, `extra` only with
 * the fields the analysis reads, and no timings. Values are the file's; only sharing changes.
 */
export function readReportSamples(run: RunDirectory): Sample[] {
  return slimSamples((visit) => run.eachSample(visit));
}

/** The slim samples (as readReportSamples keeps them) of any source of samples, e.g. one benchmark's lines. */
export function slimSamples(each: (visit: (sample: Sample) => void) => void): Sample[] {
  const strings = new Map<string, string>();
  const intern = (s: string): string => {
    const known = strings.get(s);
    if (known !== undefined) return known;
    strings.set(s, s);
    return s;
  };
  const items = new Map<string, Pick<Sample, 'images' | 'options' | 'groups' | 'source'>>();
  const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
  const out: Sample[] = [];
  each((s) => {
    const key = `${s.benchmark}\u0000${s.item}`;
    let shared = items.get(key);
    if (shared === undefined) items.set(key, (shared = { images: s.images, options: s.options, groups: s.groups, source: s.source }));
    const extra: Record<string, unknown> = {};
    for (const k of EXTRA_KEYS) if (s.extra[k] !== undefined) extra[k] = s.extra[k];
    out.push({
      ...s,
      run_id: intern(s.run_id),
      benchmark: intern(s.benchmark),
      subset: intern(s.subset),
      arm: intern(s.arm),
      ...(s.arm_kind === undefined ? {} : { arm_kind: intern(s.arm_kind) }),
      model: intern(s.model),
      model_hash: intern(s.model_hash),
      finished_at: intern(s.finished_at),
      // Shared when equal to the item's first sample (arms of one run see the same item).
      images: same(s.images, shared.images) ? shared.images : s.images,
      options: same(s.options, shared.options) ? shared.options : s.options,
      groups: same(s.groups, shared.groups) ? shared.groups : s.groups,
      source: same(s.source, shared.source) ? shared.source : s.source,
      extra,
      timings: null,
    });
  });
  return out;
}
