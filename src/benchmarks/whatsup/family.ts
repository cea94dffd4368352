import type { BenchmarkSpec } from '../benchmark-spec.js';
import type { Item, ScoreMatrix } from '../../core/item.js';
import type { BenchmarkFamily, BenchmarkMetrics, Convention, HeadlineMetric, LoadFailure, LoadOptions } from '../benchmark-family.js';
import { loaderOptions } from '../benchmark-family.js';
import { resolveConventionName } from '../convention-name.js';
import {
  CLIP_EMBEDS_2WAY_SOURCE,
  CLIP_EMBEDS_4WAY_SOURCE,
  clipEmbedsControlledCorrect,
  clipEmbedsControlledMetrics,
  controlledGoldPreposition,
  twoWayOptionIndices,
} from './clip-embeds-controlled.js';
import { loadWhatsUpControlled } from './loader.js';
import { argmaxFirst, whatsupControlledMetrics } from './metrics.js';
import { WHATSUP_DATA_FILES } from './published-files.js';
import { WHATSUP_PROBE } from './probe-classes.js';
import { controlledFourWayQuestion, controlledTwoWayQuestion } from './vlm2vec-question.js';

export const WHATSUP_VLMS_CONTROLLED_SOURCE =
  'amitakamath/whatsup_vlms@7c1f2550eace32e7b8c77de5a792347c402960d1:dataset_zoo/aro_datasets.py Controlled_Images.evaluate_scores';

export const WHATSUP_CONTROLLED_CONVENTIONS: readonly Convention[] = [
  {
    name: 'whatsup_vlms',
    source: WHATSUP_VLMS_CONTROLLED_SOURCE,
    description: '4 captions; correct iff np.argmax == 0 (a tie with option 0 counts as right); individual, pair, set, per-preposition',
  },
  {
    name: 'clip_embeds_2way',
    source: CLIP_EMBEDS_2WAY_SOURCE,
    description: 'gold caption and its opposite only; correct iff s0 > s1 (a tie is wrong); individual, pair, set, per relation type',
  },
  {
    name: 'clip_embeds_4way',
    source: CLIP_EMBEDS_4WAY_SOURCE,
    description: '4 captions; correct iff option 0 is the strict maximum (a tie is wrong); individual, pair, set, per relation type',
  },
];

type ControlledConvention = 'whatsup_vlms' | 'clip_embeds_2way' | 'clip_embeds_4way';

type Count = { accuracy: number | null; correct: number; total: number };

/** The Controlled sets' three headline numbers, whichever convention counted them. */
function controlledHeadline(convention: ControlledConvention, m: { individual: Count; pair: Count; set: Count }): HeadlineMetric[] {
  return (['individual', 'pair', 'set'] as const).map((name) => ({
    name,
    convention,
    value: m[name].accuracy,
    correct: m[name].correct,
    total: m[name].total,
  }));
}

function conventionOfItems(items: Item[]): ControlledConvention {
  const c = items.find((i) => i.groups.convention !== undefined)?.groups.convention ?? 'whatsup_vlms';
  return c as ControlledConvention;
}

/** Shapes one loaded (4-caption) item for a convention; a reason string when the row cannot be. */
function shapeForConvention(item: Item, convention: ControlledConvention): Item | string {
  const imagePath = String(item.meta.imagePath ?? '');
  const variant = item.groups.variant === 'B' ? 'B' : 'A';
  const base = { ...item, groups: { ...item.groups, convention } };
  if (convention === 'clip_embeds_2way') {
    const kept = twoWayOptionIndices(item.options);
    if (!Array.isArray(kept)) return `field caption_options: ${kept.reason}`;
    const gold = controlledGoldPreposition(item.options[0] ?? '') as string;
    return {
      ...base,
      options: kept.map((i) => item.options[i] as string),
      groups: { ...base.groups, source_options: kept.join(',') },
      meta: { ...item.meta, gold_preposition: gold, vlm2vec_question: controlledTwoWayQuestion(imagePath, gold) },
    };
  }
  if (convention === 'clip_embeds_4way') {
    // eval_4 still computes gold_prep (and crashes without one), though it does not use it.
    const gold = controlledGoldPreposition(item.options[0] ?? '');
    if (typeof gold !== 'string') return `field caption_options: ${gold.reason}`;
  }
  return { ...base, meta: { ...item.meta, vlm2vec_question: controlledFourWayQuestion(imagePath, variant) } };
}

/** What'sUp Controlled A/B, in the `whatsup_vlms` and Li et al.'s `clip_embeds` 2-way / 4-way conventions. */
export const whatsupControlledFamily: BenchmarkFamily = {
  format: 'whatsup-controlled',
  conventions: WHATSUP_CONTROLLED_CONVENTIONS,
  subsets: [
    {
      name: 'whatsup.controlled_a',
      subset: 'controlled_a',
      annotations: 'whatsup_vlms/data/controlled_images_dataset.json',
      dataDir: 'whatsup_vlms',
      description: "What'sUp Controlled_Images_A (images in data/controlled_images/)",
    },
    {
      name: 'whatsup.controlled_b',
      subset: 'controlled_b',
      annotations: 'whatsup_vlms/data/controlled_clevr_dataset.json',
      dataDir: 'whatsup_vlms',
      description: "What'sUp Controlled_Images_B (images in data/controlled_clevr/)",
    },
  ],
  publishedFiles: WHATSUP_DATA_FILES.filter((f) => f.path.includes('controlled_')),
  // A set's 4 items resampled together: individual, pair and set accuracy all from whole sets.
  bootstrap: { clusterKey: 'set', relabelKeys: ['pair'] },
  pairViews: { pairKey: 'pair', agreement: true, modes: false },
  probe: WHATSUP_PROBE,

  async load(spec: BenchmarkSpec, options?: LoadOptions) {
    const convention = resolveConventionName('whatsup-controlled', WHATSUP_CONTROLLED_CONVENTIONS, spec.convention) as ControlledConvention;
    const { items, failures } = await loadWhatsUpControlled(spec.annotations, loaderOptions(spec, options));
    const out: Item[] = [];
    const allFailures: LoadFailure[] = [...failures];
    for (const item of items) {
      const shaped = shapeForConvention(item, convention);
      if (typeof shaped === 'string') {
        allFailures.push({ source: item.source, reason: `${item.source.file} row ${item.source.row}: ${shaped}` });
        continue;
      }
      // Item ids carry the config's benchmark name, so two subsets never collide.
      out.push({ ...shaped, id: `${spec.name}/${item.source.row}`, benchmark: spec.name });
    }
    allFailures.sort((a, b) => a.source.row - b.source.row);
    return { items: out, failures: allFailures };
  },

  judge(item: Item, scores: ScoreMatrix) {
    // The prediction is the first maximum (np.argmax); whether it counts as right is the convention's rule.
    const prediction = argmaxFirst(scores[0] ?? []);
    const convention = item.groups.convention ?? 'whatsup_vlms';
    if (convention === 'whatsup_vlms') return { prediction, correct: prediction === 0 };
    return { prediction, correct: clipEmbedsControlledCorrect(convention, item, scores) };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    // Rows that failed to load have no groups: they are missing by construction.
    const loadable = items.filter((i) => i.groups.variant !== undefined);
    const unloadable = items.length - loadable.length;
    const convention = conventionOfItems(loadable);
    const source = WHATSUP_CONTROLLED_CONVENTIONS.find((c) => c.name === convention)?.source ?? WHATSUP_VLMS_CONTROLLED_SOURCE;
    if (loadable.length === 0) {
      return { convention, source, n: 0, nMissing: unloadable, headline: [], details: {} };
    }
    if (convention === 'clip_embeds_2way' || convention === 'clip_embeds_4way') {
      const m = clipEmbedsControlledMetrics(convention, loadable, scores);
      return {
        convention,
        source,
        n: m.n,
        nMissing: m.nMissing + unloadable,
        headline: controlledHeadline(convention, m),
        details: { perType: m.perType, excludedPairs: m.pair.excludedPairs, excludedSets: m.set.excludedSets },
      };
    }
    const m = whatsupControlledMetrics(loadable, scores);
    return {
      convention,
      source,
      n: m.n,
      nMissing: m.nMissing + unloadable,
      headline: controlledHeadline(convention, m),
      details: { perPreposition: m.perPreposition, excludedPairs: m.pair.excludedPairs, excludedSets: m.set.excludedSets },
    };
  },

  externalId(item: Item): string {
    return String(item.source.row);
  },

  fromExternalScores(item: Item, scores: ScoreMatrix): ScoreMatrix | string {
    const row = scores[0];
    if (scores.length !== 1 || row === undefined) return `expected 1 image row, got ${scores.length}`;
    if (row.length === item.options.length) return scores;
    const kept = item.groups.source_options?.split(',').map(Number);
    if (kept !== undefined && row.length === 4) return [kept.map((i) => row[i] as number)];
    return `expected ${item.options.length}${kept !== undefined ? ' or 4 (all captions, in caption_options order)' : ''} option scores, got ${row.length}`;
  },
};
