import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, BootstrapStatistics, Convention, LoadOptions, PublishedFile } from '../benchmark-family.js';
import { loaderOptions, RATIO_OF_SUMS, stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { argmaxFirst } from '../whatsup/metrics.js';
import {
  type AroClassCounts,
  type AroClassRecord,
  aroClassRecords,
  aroMacro,
  aroOrderMetrics,
  aroVgMetrics,
  orderItemCorrect,
  vgItemCorrect,
} from './metrics.js';
import { loadOrder } from './order-loader.js';
import { loadVg, type VgKind } from './vg-loader.js';
import { ARO_VG_PROBE } from './probe-classes.js';

const ARO = 'mertyg/vision-language-models-are-bows@81fdd20dc5b6f434aa5a4a971717bc80d1cedb0d';
const DRIVE = 'Google Drive (gdown ids in dataset_zoo/aro_datasets.py); not in git, sha256 unknown';
const BLIP = 'storage.googleapis.com/sfr-vision-language-research/datasets/ (URLs in dataset_zoo/aro_datasets.py); sha256 unknown';

export const ARO_VG_CONVENTIONS: readonly Convention[] = [
  {
    name: 'aro',
    source: `${ARO}:dataset_zoo/aro_datasets.py VG_Relation/VG_Attribution.evaluate_scores + notebooks/Replicate ARO! VG-Relation, VG-Attribution.ipynb`,
    description:
      "correct iff np.argmax([false, true]) == 1 (a tie is wrong); macro accuracy over relations without the notebook's 157 symmetric ones (VG-R) / over attribute pairs with ≥ 25 samples (VG-A, dropped in the dataset class)",
  },
];

export const ARO_ORDER_CONVENTIONS: readonly Convention[] = [
  {
    name: 'aro',
    source: `${ARO}:dataset_zoo/aro_datasets.py COCO_Order/Flickr30k_Order.evaluate_scores`,
    description: 'Precision@1: np.argmax over [original, 4 perturbations] == 0 (a tie with the original counts right)',
  },
];

/**
 * Bootstrap statistics of VG-R / VG-A: the micro figure is Σ correct / Σ total; the macro figure
 * is recomputed from each class's summed count, scored and correct (the `< 25` filter of VG-A on the
 * resample's counts, as the metric on a resample counts them), through the metric's own
 * `aroClassRecords` and `aroMacro`.
 */
const CLASS = ['count', 'scored', 'right'] as const;
export const ARO_VG_BOOTSTRAP: BootstrapStatistics = {
  ofCluster(metrics) {
    const out = RATIO_OF_SUMS.ofCluster(metrics);
    const details = metrics.details as { kind?: string; records?: AroClassRecord[] };
    if (details.kind === 'attribution') out.attribution = 1;
    for (const r of details.records ?? []) {
      out[`count\u0000${r.name}`] = r.count;
      out[`scored\u0000${r.name}`] = r.scored;
      out[`right\u0000${r.name}`] = r.correct;
    }
    return out;
  },
  headline(keys, names) {
    const ratio = RATIO_OF_SUMS.headline(keys, names);
    const macroAt = names.indexOf('macro');
    if (macroAt < 0) return ratio;
    const classNames = keys.filter((k) => k.startsWith('count\u0000')).map((k) => k.slice(6));
    const at = classNames.map((name) => {
      const [count, scored, right] = CLASS.map((c) => keys.indexOf(`${c}\u0000${name}`)) as [number, number, number];
      return { name, count, scored, right };
    });
    const attribution = keys.indexOf('attribution');
    return (sums) => {
      const values = ratio(sums);
      const classes = new Map<string, AroClassCounts>();
      for (const { name, count, scored, right } of at) {
        if (sums[count]! > 0) classes.set(name, { count: sums[count]!, scored: sums[scored]!, correct: sums[right]! });
      }
      const kind = attribution >= 0 && sums[attribution]! > 0 ? 'attribution' : 'relation';
      values[macroAt] = aroMacro(aroClassRecords(kind, classes)).value ?? Number.NaN;
      return values;
    };
  },
};

const vgKind = (subset: string): VgKind => (subset.includes('attribution') ? 'attribution' : 'relation');

/** ARO VG-Relation / VG-Attribution (subset `vg_relation` / `vg_attribution`). */
export const aroVgFamily: BenchmarkFamily = {
  format: 'aro-vg',
  conventions: ARO_VG_CONVENTIONS,
  subsets: [
    {
      name: 'aro.vg_relation',
      subset: 'vg_relation',
      annotations: 'aro/visual_genome_relation.json',
      dataDir: 'aro',
      description: "ARO VG-Relation (images in aro/images/, cropped to the row's bbox)",
    },
    {
      name: 'aro.vg_attribution',
      subset: 'vg_attribution',
      annotations: 'aro/visual_genome_attribution.json',
      dataDir: 'aro',
      description: "ARO VG-Attribution (images in aro/images/, cropped to the row's bbox)",
    },
  ],
  publishedFiles: [
    { path: 'aro/visual_genome_relation.json', sha256: null, origin: `${DRIVE}; gdown id 1kX2iCHEv0CADL8dSO1nMdW-V0NqIAiP3` },
    { path: 'aro/visual_genome_attribution.json', sha256: null, origin: `${DRIVE}; gdown id 13tWvOrNOLHxl3Rm9cR3geAdHx2qR3-Tw` },
  ] satisfies PublishedFile[],
  // Each item its own unit; the macro mean over classes is recomputed on every resample.
  bootstrap: { statistics: ARO_VG_BOOTSTRAP },
  probe: ARO_VG_PROBE,

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('aro-vg', ARO_VG_CONVENTIONS, spec.convention);
    const { items, failures } = await loadVg(vgKind(spec.subset), spec.annotations, loaderOptions(spec, options));
    return {
      items: stampItems(items, spec, convention),
      failures,
    };
  },

  judge(_item: Item, scores: ScoreMatrix) {
    return { prediction: argmaxFirst(scores[0] ?? []), correct: vgItemCorrect(scores) };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const kind: VgKind = items.some((i) => i.groups.kind === 'attribution' || i.groups.attributes !== undefined) ? 'attribution' : 'relation';
    const m = aroVgMetrics(kind, items, scores);
    const convention = 'aro';
    return {
      convention,
      source: ARO_VG_CONVENTIONS[0]?.source ?? '',
      n: m.n,
      nMissing: m.nMissing,
      headline: [
        { name: 'macro', convention, value: m.macro.value, correct: m.micro.correct, total: m.micro.total },
        { name: 'micro', convention, value: m.micro.accuracy, correct: m.micro.correct, total: m.micro.total },
      ],
      details: {
        kind,
        macroClasses: m.macro.classes,
        macroAllClasses: m.macroAllClasses,
        records: m.records,
        missingIds: m.missingIds,
      },
    };
  },

  externalId(item: Item): string {
    return String(item.source.row);
  },
};

/** ARO COCO-Order / Flickr30k-Order (Karpathy test file or a pre-built options file). */
export const aroOrderFamily: BenchmarkFamily = {
  format: 'aro-order',
  conventions: ARO_ORDER_CONVENTIONS,
  subsets: [
    {
      name: 'aro.coco_order',
      subset: 'coco_order',
      annotations: 'coco/coco_karpathy_test.json',
      dataDir: 'coco',
      description: 'ARO COCO-Order: Karpathy test captions and 4 perturbations (images in coco/val2014/)',
    },
    {
      name: 'aro.flickr30k_order',
      subset: 'flickr30k_order',
      annotations: 'flickr30k/flickr30k_test.json',
      dataDir: 'flickr30k',
      description: 'ARO Flickr30k-Order: Karpathy test captions and 4 perturbations (images in flickr30k/flickr30k-images/)',
    },
  ],
  publishedFiles: [
    { path: 'coco/coco_karpathy_test.json', sha256: null, origin: `${BLIP}coco_karpathy_test.json` },
    { path: 'flickr30k/flickr30k_test.json', sha256: null, origin: `${BLIP}flickr30k_test.json` },
  ] satisfies PublishedFile[],

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('aro-order', ARO_ORDER_CONVENTIONS, spec.convention);
    const { items, failures } = await loadOrder(spec.annotations, {
      ...loaderOptions(spec, options),
      seed: spec.seed,
    });
    return {
      items: stampItems(items, spec, convention),
      failures,
    };
  },

  judge(_item: Item, scores: ScoreMatrix) {
    return { prediction: argmaxFirst(scores[0] ?? []), correct: orderItemCorrect(scores) };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const m = aroOrderMetrics(items, scores);
    const convention = 'aro';
    return {
      convention,
      source: ARO_ORDER_CONVENTIONS[0]?.source ?? '',
      n: m.n,
      nMissing: m.nMissing,
      headline: [{ name: 'precision_at_1', convention, value: m.precisionAt1.accuracy, correct: m.precisionAt1.correct, total: m.precisionAt1.total }],
      details: { missingIds: m.missingIds },
    };
  },

  /** The 0-based test case (every caption of every image, in file order). */
  externalId(item: Item): string {
    return String(item.source.row);
  },
};
