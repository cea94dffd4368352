import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, Convention, LoadOptions } from '../benchmark-family.js';
import { loaderOptions, stampItems } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import { CLIP_EMBEDS_COMMIT } from './clip-embeds-controlled.js';
import { argmaxFirst } from './metrics.js';
import { WHATSUP_DATA_FILES } from './published-files.js';
import { loadWhatsUpQa } from './qa-loader.js';
import { clipEmbedsQaMetrics, whatsupQaMetrics } from './qa-metrics.js';

export const WHATSUP_QA_CONVENTIONS: readonly Convention[] = [
  {
    name: 'whatsup_vlms',
    source: 'amitakamath/whatsup_vlms@7c1f2550eace32e7b8c77de5a792347c402960d1:dataset_zoo/aro_datasets.py COCO_QA.evaluate_scores / VG_QA.evaluate_scores',
    description: 'correct iff np.argmax == 0 (a tie counts as right); accuracy and per-preposition accuracy',
  },
  {
    name: 'clip_embeds',
    source: `lst627/CLIP-Embeds@${CLIP_EMBEDS_COMMIT}:Patch-Aligned-Contrastive-Learning/eval_clip.py eval_COCO_VG`,
    description: 'correct iff s0 > s1 (a tie is wrong); individual and Left Right / Top Bottom / Above Below / Front Behind accuracy',
  },
];

const subset = (name: string, file: string, what: string): BenchmarkFamily['subsets'][number] => ({
  name: `whatsup.${name}`,
  subset: name,
  annotations: `whatsup_vlms/data/${file}`,
  dataDir: 'whatsup_vlms/data',
  description: what,
});

/** What'sUp COCO-QA and VG-QA (GQA) one- and two-object files. */
export const whatsupQaFamily: BenchmarkFamily = {
  format: 'whatsup-qa',
  conventions: WHATSUP_QA_CONVENTIONS,
  subsets: [
    subset('coco_qa_one', 'coco_qa_one_obj.json', "What'sUp COCO-spatial one object (images data/val2017/)"),
    subset('coco_qa_two', 'coco_qa_two_obj.json', "What'sUp COCO-spatial two objects (images data/val2017/)"),
    subset('vg_qa_one', 'vg_qa_one_obj.json', "What'sUp GQA-spatial one object (images data/vg_images/)"),
    subset('vg_qa_two', 'vg_qa_two_obj.json', "What'sUp GQA-spatial two objects (images data/vg_images/)"),
  ],
  publishedFiles: WHATSUP_DATA_FILES.filter((f) => f.path.includes('_qa_')),

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('whatsup-qa', WHATSUP_QA_CONVENTIONS, spec.convention);
    const { items, failures } = await loadWhatsUpQa(spec.annotations, {
      ...loaderOptions(spec, options),
      requireGold: convention === 'clip_embeds',
      seed: spec.seed,
    });
    return {
      items: stampItems(items, spec, convention),
      failures,
    };
  },

  judge(item: Item, scores: ScoreMatrix) {
    const row = scores[0] ?? [];
    const prediction = argmaxFirst(row);
    if (item.groups.convention === 'clip_embeds') return { prediction, correct: (row[0] as number) > (row[1] as number) };
    return { prediction, correct: prediction === 0 };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    const convention = items.find((i) => i.groups.convention !== undefined)?.groups.convention ?? 'whatsup_vlms';
    const source = WHATSUP_QA_CONVENTIONS.find((c) => c.name === convention)?.source ?? '';
    const loadable = items.filter((i) => i.groups.preposition !== undefined);
    const unloadable = items.length - loadable.length;
    if (convention === 'clip_embeds') {
      const m = clipEmbedsQaMetrics(loadable, scores);
      return {
        convention,
        source,
        n: m.n,
        nMissing: m.nMissing + unloadable,
        headline: [{ name: 'individual', convention, value: m.individual.accuracy, correct: m.individual.correct, total: m.individual.total }],
        details: { perType: m.perType, perGold: m.perGold },
      };
    }
    const m = whatsupQaMetrics(loadable, scores);
    return {
      convention,
      source,
      n: m.n,
      nMissing: m.nMissing + unloadable,
      headline: [{ name: 'individual', convention, value: m.accuracy.accuracy, correct: m.accuracy.correct, total: m.accuracy.total }],
      details: { perPreposition: m.perPreposition },
    };
  },

  externalId(item: Item): string {
    return String(item.source.row);
  },
};
