import type { Item, ScoreMatrix } from '../core/item.js';
import type { Sample } from '../store/sample.js';

/** Rebuilds the item a sample answered, so the analysis reads only the store, never a loader. */
export function itemFromSample(s: Sample): Item {
  return {
    id: s.item,
    benchmark: s.benchmark,
    subset: s.subset,
    images: s.images.map((i) => i.path),
    options: s.options,
    correct: s.correct_option,
    groups: s.groups,
    source: s.source,
    meta: {},
  };
}

/** Groups samples by benchmark, then by arm. */
export function groupSamples(samples: Sample[]): Map<string, Map<string, Sample[]>> {
  const out = new Map<string, Map<string, Sample[]>>();
  for (const s of samples) {
    let byArm = out.get(s.benchmark);
    if (!byArm) out.set(s.benchmark, (byArm = new Map()));
    let list = byArm.get(s.arm);
    if (!list) byArm.set(s.arm, (list = []));
    list.push(s);
  }
  return out;
}

export function scoreMap(samples: Sample[]): Map<string, ScoreMatrix> {
  const m = new Map<string, ScoreMatrix>();
  for (const s of samples) if (s.status === 'ok' && s.scores) m.set(s.item, s.scores);
  return m;
}
