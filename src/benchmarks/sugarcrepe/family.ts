import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, BenchmarkSubset, Convention, HeadlineMetric, LoadOptions } from '../benchmark-family.js';
import { stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { SUGARCREPE_LEGACY_NAMES, SUGARCREPE_SUBSETS, isSugarCrepeSubset, loadSugarCrepe } from './loader.js';
import { sugarCrepeCorrect, sugarCrepeMetrics } from './metrics.js';
import { SUGARCREPE_DATA_FILES, SUGARCREPE_DIR } from './published-files.js';

export const SUGARCREPE_CONVENTIONS: readonly Convention[] = [
  {
    name: 'sugarcrepe',
    source: 'RAIVNLab/sugar-crepe@0047054b243992f0fad63d6f64f7544862daf846:main_eval.py text_retrieval, evaluate',
    description:
      'options [caption, negative_caption]; right iff s(caption) > s(negative_caption) (strict: a tie is wrong); accuracy per subset, per-category (REPLACE/SWAP/ADD) means',
  },
];

const COCO_VAL2017 = 'coco/val2017';

const DESCRIPTIONS: Record<string, string> = {
  add_obj: 'ADD object',
  add_att: 'ADD attribute',
  replace_obj: 'REPLACE object',
  replace_att: 'REPLACE attribute',
  replace_rel: 'REPLACE relation',
  swap_obj: 'SWAP object',
  swap_att: 'SWAP attribute',
};

/** `<subset>.json` → its earlier name, for the subsets that had one. */
const ALTERNATIVES: Record<string, string> = Object.fromEntries(
  Object.entries(SUGARCREPE_LEGACY_NAMES).map(([s, old]) => [`${SUGARCREPE_DIR}/${s}.json`, `${SUGARCREPE_DIR}/${old}.json`]),
);

const SUBSETS: BenchmarkSubset[] = [
  ...SUGARCREPE_SUBSETS.map((s) => ({
    name: `sugarcrepe.${s}`,
    subset: s,
    annotations: `${SUGARCREPE_DIR}/${s}.json`,
    dataDir: COCO_VAL2017,
    ...(SUGARCREPE_LEGACY_NAMES[s] === undefined ? {} : { alternativeFiles: ALTERNATIVES }),
    description: `SugarCrepe ${DESCRIPTIONS[s]} (${s}.json${SUGARCREPE_LEGACY_NAMES[s] === undefined ? '' : ` or ${SUGARCREPE_LEGACY_NAMES[s]}.json`}; COCO val2017 images)`,
  })),
  {
    name: 'sugarcrepe.all',
    subset: 'all',
    annotations: `${SUGARCREPE_DIR}/${SUGARCREPE_SUBSETS[0]}.json`,
    dataDir: COCO_VAL2017,
    extraFiles: Object.fromEntries(SUGARCREPE_SUBSETS.slice(1).map((s) => [s, `${SUGARCREPE_DIR}/${s}.json`])),
    alternativeFiles: ALTERNATIVES,
    description: 'all seven SugarCrepe files as one benchmark: per subset, per-category means (REPLACE, SWAP, ADD) and their mean',
  },
];

/** SugarCrepe: seven JSON files `{id: {filename, caption, negative_caption}}` over COCO val2017. */
export const sugarCrepeFamily: BenchmarkFamily = {
  format: 'sugarcrepe',
  conventions: SUGARCREPE_CONVENTIONS,
  subsets: SUBSETS,
  publishedFiles: SUGARCREPE_DATA_FILES,

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('sugarcrepe', SUGARCREPE_CONVENTIONS, spec.convention);
    const files = Object.fromEntries(Object.entries(spec.extra_files).filter(([k]) => isSugarCrepeSubset(k)));
    const { items, failures } = await loadSugarCrepe(spec.annotations, {
      dataDir: spec.data_dir,
      subset: spec.subset,
      files,
      ...(spec.limit === undefined ? {} : { limit: spec.limit }),
      ...(options?.checkImages === false ? { checkImages: false } : {}),
    });
    return { items: stampItems(items, spec, convention), failures };
  },

  /** main_eval.py's rule: the caption (option 0) is picked only when strictly above the negative. */
  judge(item: Item, scores: ScoreMatrix) {
    const correct = sugarCrepeCorrect(item, scores);
    return { prediction: correct ? 0 : 1, correct };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const convention = 'sugarcrepe';
    const m = sugarCrepeMetrics(items, scores);
    const headline: HeadlineMetric[] = [];
    if (m.perSubset.length === 1) {
      const s = m.perSubset[0] as (typeof m.perSubset)[number];
      headline.push({ name: 'accuracy', convention, value: s.accuracy, correct: s.correct, total: s.total });
    } else {
      for (const s of m.perSubset) headline.push({ name: s.subset, convention, value: s.accuracy, correct: s.correct, total: s.total });
      for (const c of m.perCategory) {
        const pooled = m.perSubset.filter((s) => c.subsets.includes(s.subset));
        headline.push({
          name: c.category,
          convention,
          value: c.mean,
          correct: pooled.reduce((a, s) => a + s.correct, 0),
          total: pooled.reduce((a, s) => a + s.total, 0),
        });
      }
      headline.push({ name: 'mean', convention, value: m.mean, correct: m.pooled.correct, total: m.pooled.total });
    }
    return {
      convention,
      source: SUGARCREPE_CONVENTIONS[0]?.source ?? '',
      n: m.n,
      nMissing: m.nMissing,
      headline,
      details: { perSubset: m.perSubset, perCategory: m.perCategory, mean: m.mean, pooled: m.pooled },
    };
  },

  /** The authors' JSON key; for `sugarcrepe.all`, `<subset>/<key>` (e.g. `swap_obj/12`). */
  externalId(item: Item): string {
    const key = item.groups.key ?? String(item.source.row);
    return item.subset === 'all' ? `${item.groups.subset}/${key}` : key;
  },

  fromExternalScores(_item: Item, scores: ScoreMatrix): ScoreMatrix | string {
    const row = scores[0];
    if (scores.length !== 1 || row === undefined || row.length !== 2)
      return `expected 1 image row of 2 scores [caption, negative_caption], got ${scores.length} row(s) of ${row?.length ?? 0}`;
    return scores;
  },
};
