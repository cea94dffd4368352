import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, BootstrapStatistics, Convention, LoadOptions, PublishedFile } from '../benchmark-family.js';
import { RATIO_OF_SUMS, stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { MMVP_VLM_PROBE } from './probe-classes.js';
import { loadMmvpStatements, QUESTIONS_NEEDED_BY, type StatementLayout } from './loader.js';
import { authorsCategoryMean, mmvpT2iMetrics, T2I_CONVENTIONS, t2iPairOutcome, type T2iConvention, type T2iCategoryRecord } from './metrics.js';

/**
 * Bootstrap statistics: Σ correct / Σ total for every headline, except the `mmvp_vlm` convention's
 * pair figure, the authors' mean over categories of pairCorrect / (num_pairs // categories): there
 * each category's pairCorrect is summed (in category order) and `authorsCategoryMean` applied.
 */
const CATEGORY = 'category\u0000';
export const STATEMENT_BOOTSTRAP: BootstrapStatistics = {
  ofCluster(metrics) {
    const out = RATIO_OF_SUMS.ofCluster(metrics);
    const perCategory = (metrics.details as { perCategory?: T2iCategoryRecord[] }).perCategory ?? [];
    // Only a cluster with a scored pair knows its layout (so its category list); others add nothing.
    const pair = metrics.headline.find((h) => h.name === 'pair');
    if (metrics.convention === 'mmvp_vlm' && pair !== undefined && pair.total > 0) {
      perCategory.forEach((r, i) => (out[`${CATEGORY}${String(i).padStart(6, '0')}`] = r.pairCorrect));
    }
    return out;
  },
  headline(keys, names) {
    const ratio = RATIO_OF_SUMS.headline(keys, names);
    const categories = keys
      .map((k, i) => [k, i] as const)
      .filter(([k]) => k.startsWith(CATEGORY))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, i]) => i);
    const pairAt = names.indexOf('pair');
    const totalAt = keys.indexOf('total\u0000pair');
    if (categories.length === 0 || pairAt < 0 || totalAt < 0) return ratio;
    return (sums) => {
      const values = ratio(sums);
      values[pairAt] =
        authorsCategoryMean(
          categories.map((i) => sums[i]!),
          sums[totalAt]!,
        ) ?? Number.NaN;
      return values;
    };
  },
};

function conventionsFor(layout: StatementLayout): readonly Convention[] {
  const list: Convention[] = [
    {
      name: 'clip_embeds',
      source: T2I_CONVENTIONS.clip_embeds.source,
      description:
        "text-to-image: 'a photo of ' + statement; 2x2 [text, image] of 100 × score softmaxed over images; img1 iff P > 0.5 (a tie picks img2); gt img1 iff qid odd; pair and individual, per category",
    },
    {
      name: 'clip_embeds_vqascore',
      source: T2I_CONVENTIONS.clip_embeds_vqascore.source,
      description: 'as clip_embeds but the VQAScores themselves are softmaxed over the images (no scale), as eval_vqa_score.py does',
    },
    {
      name: 'clip_embeds_vlm2vec',
      source: T2I_CONVENTIONS.clip_embeds_vlm2vec.source,
      description: 'as clip_embeds but the raw cosines of LLaVA-as-embedder (VLM2Vec) are softmaxed with no scale, as VLM2Vec/eval_llava15.py does',
    },
  ];
  if (layout === 'mmvp-vlm') {
    list.push({
      name: 'mmvp_vlm',
      source: T2I_CONVENTIONS.mmvp_vlm.source,
      description:
        "the MMVP authors' evaluate_vlm.py: CLIP logits_per_text (scale 100) softmaxed over images; per-category pair accuracy (÷ num_pairs // 9) and their mean",
    });
  }
  return list;
}

const CLIP_EMBEDS = 'lst627/CLIP-Embeds@1c73a50a153ccc9d89e2eddabb69f8cc05f1a0be';

function statementFamily(layout: StatementLayout): BenchmarkFamily {
  const conventions = conventionsFor(layout);
  const subsets =
    layout === 'mmvp-vlm'
      ? [
          {
            name: 'mmvp_vlm',
            subset: 'mmvp_vlm',
            annotations: 'MMVP_VLM/Questions.csv',
            dataDir: 'MMVP_VLM',
            // Questions-llava.csv (Li et al.) is optional: the loader reads it when it lies beside Questions.csv.
            optionalFiles: { questions: { path: 'MMVP_VLM/Questions-llava.csv', adds: QUESTIONS_NEEDED_BY } },
            description:
              'MMVP-VLM, 9 categories × 15 pairs of statements; id = the 0-based pair p (rows 2p, 2p+1, qids n odd and n+1), images MMVP_VLM/MLLM_VLM Images/<Type of row 2p>/<qid>.jpg',
          },
        ]
      : [
          {
            name: 'mmvp_clip',
            subset: 'mmvp_clip',
            annotations: 'MMVP/Questions-clip.csv',
            dataDir: 'MMVP',
            // MMVP's Questions.csv is optional: the CLIP figures need only Questions-clip.csv and the images.
            optionalFiles: { questions: { path: 'MMVP/Questions.csv', adds: QUESTIONS_NEEDED_BY } },
            description:
              "MMVP images scored text-to-image with Li et al.'s statements (CLIP-Embeds additional_questions/Questions-clip.csv); id = the 0-based pair p (rows 2p, 2p+1, qids n odd and n+1), images MMVP/MMVP Images/<qid>.jpg",
          },
        ];
  const publishedFiles: PublishedFile[] =
    layout === 'mmvp-vlm'
      ? [
          { path: 'MMVP_VLM/Questions.csv', sha256: null, origin: 'huggingface.co/datasets/MMVP/MMVP_VLM (tsb0601/MMVP README); sha256 unknown' },
          {
            path: 'MMVP_VLM/Questions-llava.csv',
            sha256: '61740c77888be19627b6e9453661bf4d9cce0756d55150b47ca2ef127f9bf0bc',
            origin: `${CLIP_EMBEDS}:additional_questions/Questions-llava.csv (git blob sha256)`,
          },
        ]
      : [
          {
            path: 'MMVP/Questions-clip.csv',
            sha256: 'af1bcfa33603d704a76b295c0671c16bc8433ee55713115d23897f6c01a66410',
            origin: `${CLIP_EMBEDS}:additional_questions/Questions-clip.csv (git blob sha256)`,
          },
        ];

  return {
    format: layout,
    conventions,
    subsets,
    publishedFiles,
    // Items are whole pairs (each its own cluster); the pair's two images are the item's own.
    bootstrap: { statistics: STATEMENT_BOOTSTRAP },
    pairViews: { pairKey: 'pair', agreement: true, modes: false },
    probe: MMVP_VLM_PROBE,

    async load(spec: BenchmarkSpec, options?: LoadOptions) {
      const convention = resolveConventionName(layout, conventions, spec.convention);
      const questionsFile = spec.extra_files.questions;
      const { items, failures, companions } = await loadMmvpStatements(spec.annotations, {
        layout,
        dataDir: spec.data_dir,
        subset: spec.subset,
        ...(spec.limit === undefined ? {} : { limit: spec.limit }),
        ...(questionsFile === undefined ? {} : { questionsFile }),
        ...(options?.checkImages === false ? { checkImages: false } : {}),
      });
      return {
        items: stampItems(items, spec, convention),
        failures,
        companions,
      };
    },

    /** prediction = the image statement 1 picked (0 = img1); correct = both statements right (the pair). */
    judge(item: Item, scores: ScoreMatrix) {
      const convention = (item.groups.convention ?? 'clip_embeds') as T2iConvention;
      const o = t2iPairOutcome(item, scores, T2I_CONVENTIONS[convention].logitScale);
      return { prediction: o.pred[0], correct: o.pair };
    },

    metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
      const convention = (items.find((i) => i.groups.convention !== undefined)?.groups.convention ?? 'clip_embeds') as T2iConvention;
      const m = mmvpT2iMetrics(items, scores, convention);
      const headline =
        convention === 'mmvp_vlm'
          ? [
              {
                name: 'pair',
                convention,
                value: m.categoryMeanPairAccuracy,
                correct: m.pair.correct,
                total: m.pair.total,
              },
            ]
          : [
              { name: 'individual', convention, value: m.individual.accuracy, correct: m.individual.correct, total: m.individual.total },
              { name: 'pair', convention, value: m.pair.accuracy, correct: m.pair.correct, total: m.pair.total },
            ];
      return {
        convention,
        source: m.source,
        n: m.numPairs,
        nMissing: m.nMissing,
        headline,
        details: {
          logitScale: m.logitScale,
          perCategory: m.perCategory,
          categoryMeanPairAccuracy: m.categoryMeanPairAccuracy,
          missingIds: m.missingIds,
        },
      };
    },

    /** The 0-based pair index; the scores are 2 images × 2 statements (`scores[image][statement]`). */
    externalId(item: Item): string {
      return String(item.source.row);
    },
  };
}

/** MMVP-VLM (`Questions.csv` with qid, Type, Statement), text-to-image per pair. */
export const mmvpVlmFamily = statementFamily('mmvp-vlm');
/** MMVP images with Li et al.'s `Questions-clip.csv` statements, text-to-image per pair. */
export const mmvpClipFamily = statementFamily('mmvp-clip');
