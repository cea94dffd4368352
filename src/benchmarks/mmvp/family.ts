import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, Convention, HeadlineMetric, LoadOptions, PublishedFile } from '../benchmark-family.js';
import { loaderOptions, stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { MMVP_ERRATA_V1 } from './errata.js';
import { loadMmvp } from './loader.js';
import { mmvpMetrics, mmvpPrediction, type MmvpFigures } from './metrics.js';

export const MMVP_GPT_GRADER_SOURCE = 'tsb0601/MMVP@763500597e65c3446f09047837ceda76f4e264bf:scripts/gpt_grader.py (pair loop)';
export const MMVP_LMMS_EVAL_SOURCE =
  'EvolvingLMMs-Lab/lmms-eval@75571cfe0fa36ca5ec2e6aa2bb268f9d38295af3:lmms_eval/tasks/mmvp/utils.py mmvp_aggregate_results, mmvp_aggregate_pair_results';

export const MMVP_CONVENTIONS: readonly Convention[] = [
  {
    name: 'mmvp',
    source: MMVP_GPT_GRADER_SOURCE,
    description:
      "pair accuracy over consecutive rows as gpt_grader.py counts it (the paper's figure), question accuracy as lmms-eval; option scores, first maximum wins (a tie picks (a)); errata mmvp-errata-v1 applied, uncorrected beside",
  },
  {
    name: 'lmms_eval',
    source: MMVP_LMMS_EVAL_SOURCE,
    description: 'mmvp_accuracy and mmvp_pair_accuracy (pairs by (Index-1)//2, complete pairs only); errata applied, uncorrected beside',
  },
];

const HF = 'huggingface.co/datasets/MMVP/MMVP (tsb0601/MMVP README); not in git, sha256 unknown';
export const MMVP_DATA_FILES: readonly PublishedFile[] = [{ path: 'MMVP/Questions.csv', sha256: null, origin: HF }];

function headline(convention: string, f: MmvpFigures, suffix: string): HeadlineMetric[] {
  const pairs = convention === 'lmms_eval' ? f.indexPairs : f.pairs;
  return [
    { name: `individual${suffix}`, convention, value: f.questions.accuracy, correct: f.questions.correct, total: f.questions.total },
    { name: `pair${suffix}`, convention, value: pairs.accuracy, correct: pairs.correct, total: pairs.total },
  ];
}

/** MMVP (the MLLM benchmark): one item per question, answered by option scores. */
export const mmvpFamily: BenchmarkFamily = {
  format: 'mmvp',
  conventions: MMVP_CONVENTIONS,
  // MMVP's paper (tsb0601/MMVP@7635005:scripts/evaluate_mllm.py) and lmms-eval present (a)/(b) in file order.
  defaultOptionOrder: 'fixed',
  subsets: [
    {
      name: 'mmvp',
      subset: 'mmvp',
      annotations: 'MMVP/Questions.csv',
      dataDir: 'MMVP',
      description:
        'MMVP, 150 pairs of questions; id = the 0-based question row r, its image MMVP/MMVP Images/<r + 1>.jpg (row position, not the Index column); pairs = rows 2p, 2p+1',
    },
  ],
  publishedFiles: MMVP_DATA_FILES,
  // A question pair resampled together; lmms-eval's Index pairs are relabelled per copy.
  bootstrap: { clusterKey: 'pair', relabelKeys: ['index_pair'] },
  pairViews: { pairKey: 'pair', agreement: true, modes: true },

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('mmvp', MMVP_CONVENTIONS, spec.convention);
    const { items, failures, quirks } = await loadMmvp(spec.annotations, loaderOptions(spec, options));
    return {
      items: stampItems(items, spec, convention),
      failures,
      quirks,
    };
  },

  judge(item: Item, scores: ScoreMatrix) {
    const prediction = mmvpPrediction(scores);
    return { prediction, correct: prediction === item.correct };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const convention = items.find((i) => i.groups.convention !== undefined)?.groups.convention ?? 'mmvp';
    const source = convention === 'lmms_eval' ? MMVP_LMMS_EVAL_SOURCE : MMVP_GPT_GRADER_SOURCE;
    const m = mmvpMetrics(items, scores);
    return {
      convention,
      source,
      n: m.n,
      nMissing: m.nMissing,
      headline: [...headline(convention, m.corrected, ''), ...headline(convention, m.uncorrected, '_uncorrected')],
      details: {
        errata: MMVP_ERRATA_V1.version,
        corrections: m.corrections,
        corrected: m.corrected,
        uncorrected: m.uncorrected,
        note:
          convention === 'mmvp'
            ? "gpt_grader.py prints only the pair accuracy; the question accuracy is lmms-eval's mmvp_accuracy"
            : 'pairs by the Index column ((Index-1)//2); a pair with one member only is not counted',
        missingIds: m.missingIds,
      },
    };
  },

  /** The 0-based question row (one item per question; the pair is `groups.pair`). */
  externalId(item: Item): string {
    return String(item.source.row);
  },
};
