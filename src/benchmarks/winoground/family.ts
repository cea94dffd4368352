import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, Convention, LoadOptions } from '../benchmark-family.js';
import { stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { loadWinoground } from './loader.js';
import { winogroundMetrics, winogroundOutcome } from './metrics.js';

export const WINOGROUND_CONVENTIONS: readonly Convention[] = [
  {
    name: 'winoground',
    source:
      'Thrush et al. 2022 (arXiv 2204.03162) §3 text/image/group score; read in ajd12342/why-winoground-hard@78e971096db3d4feef96e6419ab56708f780c441:score_subsets.py',
    description:
      'two images × two captions: text score s(C0,I0) > s(C1,I0) and s(C1,I1) > s(C0,I1); image score s(C0,I0) > s(C0,I1) and s(C1,I1) > s(C1,I0); group both; all strict; overall and per tag / secondary tag / collapsed tag / main predicates',
  },
];

/** Winoground (`facebook/winoground` on Hugging Face, gated): `examples.jsonl` and `images/<stem>.png`. */
export const winogroundFamily: BenchmarkFamily = {
  format: 'winoground',
  conventions: WINOGROUND_CONVENTIONS,
  subsets: [
    {
      name: 'winoground',
      subset: 'winoground',
      annotations: 'winoground/data/examples.jsonl',
      dataDir: 'winoground/data',
      description: 'Winoground, 400 examples of 2 images × 2 captions (images/<image_k>.png from the gated images.zip)',
    },
  ],
  publishedFiles: [
    {
      path: 'winoground/data/examples.jsonl',
      sha256: null,
      origin: 'huggingface.co/datasets/facebook/winoground data/examples.jsonl (gated behind a licence; sha256 unknown)',
    },
  ],

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('winoground', WINOGROUND_CONVENTIONS, spec.convention);
    const { items, failures } = await loadWinoground(spec.annotations, {
      dataDir: spec.data_dir,
      subset: spec.subset,
      ...(spec.limit === undefined ? {} : { limit: spec.limit }),
      ...(options?.checkImages === false ? { checkImages: false } : {}),
    });
    return { items: stampItems(items, spec, convention), failures };
  },

  /** prediction = the caption image 0 picked (first maximum); correct = the group score. */
  judge(item: Item, scores: ScoreMatrix) {
    const row = scores[0] ?? [];
    const prediction = (row[1] as number) > (row[0] as number) ? 1 : 0;
    return { prediction, correct: winogroundOutcome(item, scores).group };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const convention = 'winoground';
    const m = winogroundMetrics(items, scores);
    const o = m.overall;
    return {
      convention,
      source: WINOGROUND_CONVENTIONS[0]?.source ?? '',
      n: m.n,
      nMissing: m.nMissing,
      headline: [
        { name: 'text', convention, value: o.textScore, correct: o.text, total: o.n },
        { name: 'image', convention, value: o.imageScore, correct: o.image, total: o.n },
        { name: 'group', convention, value: o.groupScore, correct: o.group, total: o.n },
      ],
      details: { perTag: m.perTag },
    };
  },

  /** The example's `id` field (0–399). */
  externalId(item: Item): string {
    return item.groups.winoground_id ?? String(item.source.row);
  },

  /**
   * `scores[image][caption]` (2 × 2), or one row `[c0_i0, c0_i1, c1_i0, c1_i1]` (the order of
   * `evaluate_winoground` in several evaluation harnesses).
   */
  fromExternalScores(_item: Item, scores: ScoreMatrix): ScoreMatrix | string {
    if (scores.length === 2 && scores.every((r) => r.length === 2)) return scores;
    const r = scores[0];
    if (scores.length === 1 && r?.length === 4) {
      const [c0i0, c0i1, c1i0, c1i1] = r as [number, number, number, number];
      return [
        [c0i0, c1i0],
        [c0i1, c1i1],
      ];
    }
    return `expected 2 image rows of 2 caption scores (scores[image][caption]) or 1 row [c0_i0, c0_i1, c1_i0, c1_i1], got ${scores.length} row(s) of ${r?.length ?? 0}`;
  },
};
