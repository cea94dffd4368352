import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, Convention, LoadOptions, PublishedFile } from '../benchmark-family.js';
import { loaderOptions, stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { argmaxFirst } from '../whatsup/metrics.js';
import { aroOrderMetrics, aroVgMetrics, orderItemCorrect, vgItemCorrect } from './metrics.js';
import { loadOrder } from './order-loader.js';
import { loadVg, type VgKind } from './vg-loader.js';

const ARO = 'mertyg/vision-language-models-are-bows@81fdd20dc5b6f434aa5a4a971717bc80d1cedb0d';
const DRIVE = 'Google Drive (gdown ids in dataset_zoo/aro_datasets.py); not in git, sha256 unknown';
const BLIP = 'storage.googleapis.com/sfr-vision-language-research/datasets/ (URLs in dataset_zoo/aro_datasets.py); sha256 unknown';

export const ARO_VG_CONVENTIONS: readonly Convention[] = [
  {
    name: 'aro',
    source: `${ARO}:dataset_zoo/aro_datasets.py VG_Relation/VG_Attribution.evaluate_scores + notebooks/Replicate ARO! VG-Relation, VG-Attribution.ipynb`,
    description:
      'correct iff np.argmax([false, true]) == 1 (a tie is wrong); macro accuracy over relations without the notebook\'s 157 symmetric ones (VG-R) / over attribute pairs with ≥ 25 samples (VG-A, dropped in the dataset class)',
  },
];

export const ARO_ORDER_CONVENTIONS: readonly Convention[] = [
  {
    name: 'aro',
    source: `${ARO}:dataset_zoo/aro_datasets.py COCO_Order/Flickr30k_Order.evaluate_scores`,
    description: 'Precision@1: np.argmax over [original, 4 perturbations] == 0 (a tie with the original counts right)',
  },
];

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
      description: 'ARO VG-Relation (images in aro/images/, cropped to the row\'s bbox)',
    },
    {
      name: 'aro.vg_attribution',
      subset: 'vg_attribution',
      annotations: 'aro/visual_genome_attribution.json',
      dataDir: 'aro',
      description: 'ARO VG-Attribution (images in aro/images/, cropped to the row\'s bbox)',
    },
  ],
  publishedFiles: [
    { path: 'aro/visual_genome_relation.json', sha256: null, origin: `${DRIVE}; gdown id 1kX2iCHEv0CADL8dSO1nMdW-V0NqIAiP3` },
    { path: 'aro/visual_genome_attribution.json', sha256: null, origin: `${DRIVE}; gdown id 13tWvOrNOLHxl3Rm9cR3geAdHx2qR3-Tw` },
  ] satisfies PublishedFile[],

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
