import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, Convention, LoadFailure, LoadOptions } from '../benchmark-family.js';
import type { DataQuirk } from '../shared/data-quirk.js';
import { stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { loadHardPositives } from './loader.js';
import { loadHardPositivesSwap } from './swap-loader.js';
import { hardPositiveAugmentedCorrect, hardPositiveTuple, hardPositivesMetrics } from './metrics.js';
import { HARD_POSITIVES_DATA_FILES } from './published-files.js';

export const HARD_POSITIVES_CONVENTIONS: readonly Convention[] = [
  {
    name: 'hard_positives',
    source: 'amitakamath/hard_positives@33addaae84b58d96dc8e9251b61d497c536ed23d:run_eval.py main',
    description:
      'options [c_n, c, c_p]; original accuracy s(c) > s(c_n), augmented accuracy s(c), s(c_p) > s(c_n), brittleness (c_n between c and c_p); all strict',
  },
];

/**
 * Hard positives REPLACE (relations, attributes: the data/ and swapped_data/ vl_checklist files) and
 * SWAP (data/ and swapped_data/ visual_genome_attribution.json, ARO's format with crop boxes).
 */
export const hardPositivesFamily: BenchmarkFamily = {
  format: 'hard-positives',
  conventions: HARD_POSITIVES_CONVENTIONS,
  subsets: [
    {
      name: 'hard_positives.replace_rel',
      subset: 'replace_rel',
      annotations: 'hard_positives/data/vl_checklist_relations.json',
      dataDir: 'hard_positives',
      extraFiles: { swapped: 'hard_positives/swapped_data/vl_checklist_relations.json' },
      description:
        "REPLACE relations; id = the 0-based row of data/ (and of swapped_data/, same row); image = the row's image_path (data/VG_100K*/<image_id>.jpg)",
    },
    {
      name: 'hard_positives.replace_att',
      subset: 'replace_att',
      annotations: 'hard_positives/data/vl_checklist_attributes.json',
      dataDir: 'hard_positives',
      extraFiles: { swapped: 'hard_positives/swapped_data/vl_checklist_attributes.json' },
      description:
        "REPLACE attributes; id = the 0-based row of data/ (and of swapped_data/, same row); image = the row's image_path (data/VG_100K*/<image_id>.jpg)",
    },
    {
      name: 'hard_positives.swap',
      subset: 'swap',
      annotations: 'hard_positives/data/visual_genome_attribution.json',
      dataDir: 'hard_positives',
      extraFiles: { swapped: 'hard_positives/swapped_data/visual_genome_attribution.json' },
      description: "SWAP (ARO VG-Attribution format; images under data/images/, each cropped to the row's box)",
    },
  ],
  publishedFiles: HARD_POSITIVES_DATA_FILES,

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('hard-positives', HARD_POSITIVES_CONVENTIONS, spec.convention);
    const swapped = spec.extra_files.swapped;
    const load = spec.subset === 'swap' ? loadHardPositivesSwap : loadHardPositives;
    const { items, failures, quirks }: { items: Item[]; failures: LoadFailure[]; quirks?: DataQuirk[] } = await load(spec.annotations, {
      dataDir: spec.data_dir,
      subset: spec.subset,
      ...(swapped === undefined ? {} : { swappedFile: swapped }),
      ...(spec.limit === undefined ? {} : { limit: spec.limit }),
      ...(options?.checkImages === false ? { checkImages: false } : {}),
    });
    return {
      items: stampItems(items, spec, convention),
      failures,
      ...(quirks === undefined ? {} : { quirks }),
    };
  },

  judge(item: Item, scores: ScoreMatrix) {
    // Right = the item passes the augmented test: both positives strictly above the hard negative.
    const row = scores[0] ?? [];
    let prediction = 0;
    for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[prediction] as number)) prediction = i;
    return { prediction, correct: hardPositiveAugmentedCorrect(hardPositiveTuple(item, scores)) };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const convention = 'hard_positives';
    const source = HARD_POSITIVES_CONVENTIONS[0]?.source ?? '';
    const m = hardPositivesMetrics(items, scores);
    const h = (name: string, c: { correct: number; total: number; accuracy: number | null }) => ({
      name,
      convention,
      value: c.accuracy,
      correct: c.correct,
      total: c.total,
    });
    return {
      convention,
      source,
      n: m.n,
      nMissing: m.nMissing,
      headline: [h('original', m.original), h('augmented', m.augmented), h('brittleness', m.brittleness)],
      details: { modified: m.modified, counts: m.counts, avgDiff: m.avgDiff },
    };
  },

  externalId(item: Item): string {
    return String(item.source.row);
  },

  fromExternalScores(_item: Item, scores: ScoreMatrix): ScoreMatrix | string {
    const row = scores[0];
    if (scores.length !== 1 || row === undefined) return `expected 1 image row, got ${scores.length}`;
    if (row.length === 3 || row.length === 4) return scores;
    return `expected 3 scores [c_n, c, c_p] or 4 [c_n, c, c_n (swapped file), c_p], got ${row.length}`;
  },
};
