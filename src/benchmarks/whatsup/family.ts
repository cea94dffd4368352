import type { BenchmarkSpec } from '../../config/experiment.js';
import type { Item, ScoreMatrix } from '../../items/item.js';
import type { BenchmarkFamily, BenchmarkMetrics } from '../benchmark-family.js';
import { loadWhatsUpControlled } from './loader.js';
import { argmaxFirst, whatsupControlledMetrics } from './metrics.js';

const SOURCE = 'amitakamath/whatsup_vlms dataset_zoo/aro_datasets.py Controlled_Images.evaluate_scores';

/** What'sUp Controlled A/B in the `whatsup_vlms` convention (the benchmark authors' code). */
export const whatsupControlledFamily: BenchmarkFamily = {
  format: 'whatsup-controlled',

  async load(spec: BenchmarkSpec) {
    const { items, failures } = await loadWhatsUpControlled(spec.annotations, {
      dataDir: spec.data_dir,
      subset: spec.subset,
      ...(spec.limit === undefined ? {} : { limit: spec.limit }),
    });
    // Item ids carry the config's benchmark name, so two subsets never collide.
    return {
      items: items.map((i) => ({ ...i, id: `${spec.name}/${i.source.row}`, benchmark: spec.name })),
      failures,
    };
  },

  judge(_item: Item, scores: ScoreMatrix) {
    // np.argmax over the options: the first maximum wins, so a tie with option 0 counts as right.
    const prediction = argmaxFirst(scores[0] ?? []);
    return { prediction, correct: prediction === 0 };
  },

  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics {
    // Rows that failed to load have no groups: they are missing by construction.
    const loadable = items.filter((i) => i.groups.variant !== undefined);
    const unloadable = items.length - loadable.length;
    if (loadable.length === 0) {
      return { convention: 'whatsup_vlms', source: SOURCE, n: 0, nMissing: unloadable, headline: [], details: {} };
    }
    const m = whatsupControlledMetrics(loadable, scores);
    return {
      convention: 'whatsup_vlms',
      source: SOURCE,
      n: m.n,
      nMissing: m.nMissing + unloadable,
      headline: [
        { name: 'individual', value: m.individual.accuracy, correct: m.individual.correct, total: m.individual.total },
        { name: 'pair', value: m.pair.accuracy, correct: m.pair.correct, total: m.pair.total },
        { name: 'set', value: m.set.accuracy, correct: m.set.correct, total: m.set.total },
      ],
      details: { perPreposition: m.perPreposition, excludedPairs: m.pair.excludedPairs, excludedSets: m.set.excludedSets },
    };
  },
};
