import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, Convention, LoadOptions, PublishedFile } from '../benchmark-family.js';
import { stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { SUGARCREPE_PP_SUBSETS, loadSugarCrepePp } from './loader.js';
import { sugarCrepePpMetrics, sugarCrepePpOutcome } from './metrics.js';

const SCPP = 'Sri-Harsha/scpp@c083bbf039a5ca215acaf25e7ee736d2ea6f3864';

export const SUGARCREPE_PP_CONVENTIONS: readonly Convention[] = [
  {
    name: 'sugarcrepe_pp',
    source: `${SCPP}:VLMs/test_Variants_CLIP.py (ITT, Image-P1-Neg, Image-P2-Neg, TOT counts)`,
    description:
      'options [P1, P2, N]; ITT right iff s(I,P1) > s(I,N) and s(I,P2) > s(I,N); TOT right iff cos(P1,P2) > cos(P1,N) and cos(P1,P2) > cos(P2,N) (needs a second, text-only score row); all strict',
  },
];

/** sha256 of the git blobs `data/<subset>.json` at the commit above (`git show <commit>:<path> | sha256sum`). */
const SHA256: Record<string, string> = {
  replace_att: '6826413592894754eeca02aeebbcbbc8b95a7456998abcc714e71c033ce6fe87',
  replace_obj: '5c6dc499ec8f511a8aa4ec1b7b5eb0eca90317488abe36ec39573355e2d361ab',
  replace_rel: '040fb95d3f0619bf515db60879e99709a87a5e9b4f524ec3403b127243480fd4',
  swap_att: '450d0fd9fcad3e6f44950dc634e7f901ab1c6d9c60a569ade5ae8ffb3d203ad8',
  swap_obj: '5f33cae824de431a7ecd3c5de6301f689815f9497aa36d96b154bbaf117b201b',
};

const DIR = 'scpp/data';

const PUBLISHED: PublishedFile[] = SUGARCREPE_PP_SUBSETS.map((s) => ({
  path: `${DIR}/${s}.json`,
  sha256: SHA256[s] as string,
  origin: `${SCPP}:data/${s}.json (git blob sha256)`,
}));

/** SugarCrepe++: five JSON lists of `{id, filename, caption, caption2, negative_caption}` over COCO val2017. */
export const sugarCrepePpFamily: BenchmarkFamily = {
  format: 'sugarcrepe-pp',
  conventions: SUGARCREPE_PP_CONVENTIONS,
  subsets: SUGARCREPE_PP_SUBSETS.map((s) => ({
    name: `sugarcrepe_pp.${s}`,
    subset: s,
    annotations: `${DIR}/${s}.json`,
    dataDir: 'coco/val2017',
    description: `SugarCrepe++ ${s} (two positives and a hard negative; COCO val2017 images)`,
  })),
  publishedFiles: PUBLISHED,

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('sugarcrepe-pp', SUGARCREPE_PP_CONVENTIONS, spec.convention);
    const { items, failures } = await loadSugarCrepePp(spec.annotations, {
      dataDir: spec.data_dir,
      subset: spec.subset,
      ...(spec.limit === undefined ? {} : { limit: spec.limit }),
      ...(options?.checkImages === false ? { checkImages: false } : {}),
    });
    return { items: stampItems(items, spec, convention), failures };
  },

  /** prediction = first maximum of the image row; correct = the ITT test (both positives above N). */
  judge(item: Item, scores: ScoreMatrix) {
    const row = scores[0] ?? [];
    let prediction = 0;
    for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[prediction] as number)) prediction = i;
    return { prediction, correct: sugarCrepePpOutcome(item, [row.slice(0, 3)]).itt };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const convention = 'sugarcrepe_pp';
    const m = sugarCrepePpMetrics(items, scores);
    const h = (name: string, c: { correct: number; total: number; accuracy: number | null }) => ({
      name,
      convention,
      value: c.accuracy,
      correct: c.correct,
      total: c.total,
    });
    return {
      convention,
      source: SUGARCREPE_PP_CONVENTIONS[0]?.source ?? '',
      n: m.n,
      nMissing: m.nMissing,
      headline: [h('itt', m.itt), h('tot', m.tot)],
      details: { imageP1Neg: m.imageP1Neg, imageP2Neg: m.imageP2Neg, totScored: m.tot.total },
    };
  },

  /** The 0-based row of the JSON list (equal to the row's `id` in the published files). */
  externalId(item: Item): string {
    return String(item.source.row);
  },

  /** `[[s(I,P1), s(I,P2), s(I,N)]]`, optionally with the text-only row `[cos(P1,P2), cos(P1,N), cos(P2,N)]`. */
  fromExternalScores(_item: Item, scores: ScoreMatrix): ScoreMatrix | string {
    if ((scores.length === 1 || scores.length === 2) && scores.every((r) => r.length === 3)) return scores;
    return `expected [[s(I,P1), s(I,P2), s(I,N)]] and optionally a second row [cos(P1,P2), cos(P1,N), cos(P2,N)], got ${scores.length} row(s) of ${scores[0]?.length ?? 0}`;
  },
};
