import type { ProbeDeclaration, ProbeItem } from '../benchmarks/benchmark-family.js';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import { decodeEmbedding } from '../core/embedding-codec.js';
import { ProbeExtraSchema, type ProbeSettings } from '../core/probe-features.js';
import type { Sample } from '../store/sample.js';
import { groupedFolds } from './probe-folds.js';
import { fitProbe } from './probe-regression.js';
import { itemFromSample } from './sample-items.js';

/** One probed image: an (item, image) pair with its class, fold and held-out prediction. */
export interface ProbeRow {
  item: string;
  image: number;
  group: string;
  fold: number;
  label: string;
  /** Held-out probability of each class of `ProbeRun.classes`. */
  probabilities: number[];
  predicted: string;
}

/** The cross-validated probe of one probe arm on one benchmark. */
export interface ProbeRun {
  arm: string;
  benchmark: string;
  /** What a class is (the family's `probe.target`). */
  target: string;
  settings: ProbeSettings;
  classes: string[];
  /** Classes left out for having fewer rows than `minClassSamples`. */
  excluded: Array<{ label: string; rows: number }>;
  minClassSamples: number;
  /** Folds actually used (fewer than asked when there are fewer groups). */
  folds: number;
  /** Feature dimensions of the embedding, and those the classifier saw (principal components). */
  dim: number;
  components: number;
  /** Whether the probe's probabilities became the arm's option scores (the family maps options to classes). */
  scored: boolean;
  rows: ProbeRow[];
}

export interface ProbeOutcome {
  /** The samples with every probe arm's placeholder replaced (or the sample dropped, see applyProbes). */
  samples: Sample[];
  probes: ProbeRun[];
  /** For each of `samples`, the index of the input sample it is or replaces (dropped samples have none). */
  sources: number[];
}

function probeItem(s: Sample): ProbeItem {
  return { groups: s.groups, options: s.options, correct: s.correct_option, images: s.images.map((i) => i.path) };
}

interface Candidate {
  sample: Sample;
  image: number;
  label: string;
  group: string;
  features: Float32Array;
}

/** Index of the first maximum. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function fitOne(arm: string, benchmark: string, declaration: ProbeDeclaration, samples: Sample[]): { run: ProbeRun; scores: Map<Sample, number[][]> } | string {
  const parsed = samples.map((s) => ProbeExtraSchema.safeParse(s.extra));
  const first = parsed.find((p) => p.success);
  if (!first?.success) return 'no sample carries probe features';
  const settings = first.data.probe_settings;
  const candidates: Candidate[] = [];
  let dim = -1;
  samples.forEach((s, i) => {
    const p = parsed[i]!;
    if (!p.success) return;
    const item = probeItem(s);
    const classes = declaration.imageClasses(item);
    const group = declaration.group(item);
    p.data.probe_features.forEach((text, k) => {
      const label = classes[k];
      const features = decodeEmbedding(text);
      if (label === undefined || features === undefined) return;
      if (dim < 0) dim = features.length;
      if (features.length !== dim) return;
      candidates.push({ sample: s, image: k, label, group, features });
    });
  });
  const counts = new Map<string, number>();
  for (const c of candidates) counts.set(c.label, (counts.get(c.label) ?? 0) + 1);
  const classes = [...counts.keys()].filter((l) => counts.get(l)! >= declaration.minClassSamples).sort();
  const excluded = [...counts.entries()].filter(([l]) => !classes.includes(l)).map(([label, rows]) => ({ label, rows }));
  const kept = candidates.filter((c) => classes.includes(c.label));
  if (classes.length < 2) return `fewer than 2 classes with at least ${declaration.minClassSamples} rows`;
  const folds = groupedFolds(
    kept.map((c) => c.group),
    settings.folds,
    settings.seed,
  );
  const foldCount = Math.max(...folds) + 1;
  if (foldCount < 2) return 'fewer than 2 groups';
  const classIndex = new Map(classes.map((l, i) => [l, i]));
  const probabilities: number[][] = new Array(kept.length);
  let components = 0;
  for (let f = 0; f < foldCount; f++) {
    const train = kept.filter((_, i) => folds[i] !== f);
    const testIdx = kept.map((_, i) => i).filter((i) => folds[i] === f);
    const fit = fitProbe(
      train.map((c) => c.features),
      train.map((c) => classIndex.get(c.label)!),
      testIdx.map((i) => kept[i]!.features),
      { l2: settings.l2, classes: classes.length },
    );
    components = Math.max(components, fit.components);
    testIdx.forEach((i, j) => {
      probabilities[i] = fit.probabilities[j]!;
    });
  }
  const rows: ProbeRow[] = kept.map((c, i) => ({
    item: c.sample.item,
    image: c.image,
    group: c.group,
    fold: folds[i]!,
    label: c.label,
    probabilities: probabilities[i]!,
    predicted: classes[argmax(probabilities[i]!)]!,
  }));
  // Option scores: each option's class probability, for items whose every image was probed.
  const scores = new Map<Sample, number[][]>();
  const optionClasses = declaration.optionClasses;
  if (optionClasses) {
    const byImage = new Map<string, number[]>();
    rows.forEach((r) => byImage.set(`${r.item}\u0000${r.image}`, r.probabilities));
    for (const s of samples) {
      const perImage = optionClasses(probeItem(s));
      const matrix: number[][] = [];
      for (let k = 0; k < s.images.length; k++) {
        const p = byImage.get(`${s.item}\u0000${k}`);
        if (!p) break;
        matrix.push((perImage[k] ?? []).map((label) => (label === undefined ? 0 : (p[classIndex.get(label) ?? -1] ?? 0))));
      }
      if (matrix.length === s.images.length) scores.set(s, matrix);
    }
  }
  return {
    run: {
      arm,
      benchmark,
      target: declaration.target,
      settings,
      classes,
      excluded,
      minClassSamples: declaration.minClassSamples,
      folds: foldCount,
      dim,
      components,
      scored: optionClasses !== undefined,
      rows,
    },
    scores,
  };
}

/**
 * Fits every probe arm's cross-validated probe (one per arm × benchmark whose family declares
 * classes) and turns its held-out predictions into the arm's samples: scores = each option's class
 * probability, judged by the family's own rule, so every metric and comparison of the report
 * applies to the probe as to any arm. A probe sample that cannot be scored (a benchmark without
 * classes, or whose options share a class, or an item whose class was left out) is dropped: the
 * probe has no answer there. Other samples pass unchanged.
 */
export function applyProbes(samples: Sample[], formats: Map<string, BenchmarkSpec['format']>): ProbeOutcome {
  const probeSamples = new Map<string, Sample[]>();
  for (const s of samples) {
    if (s.status !== 'ok' || s.extra.probe_pending !== true) continue;
    const key = `${s.arm}\u0000${s.benchmark}`;
    let list = probeSamples.get(key);
    if (!list) probeSamples.set(key, (list = []));
    list.push(s);
  }
  if (probeSamples.size === 0) return { samples, probes: [], sources: samples.map((_, i) => i) };
  const replaced = new Map<Sample, Sample | undefined>();
  const probes: ProbeRun[] = [];
  for (const [key, list] of probeSamples) {
    const [arm, benchmark] = key.split('\u0000') as [string, string];
    const format = formats.get(benchmark);
    const family = format === undefined ? undefined : benchmarkFamily(format);
    const outcome = family?.probe ? fitOne(arm, benchmark, family.probe, list) : 'no classes';
    for (const s of list) replaced.set(s, undefined);
    if (typeof outcome === 'string') continue;
    probes.push(outcome.run);
    for (const [s, scores] of outcome.scores) {
      const judged = family!.judge(itemFromSample(s), scores);
      const { probe_features: _features, ...extra } = s.extra;
      replaced.set(s, { ...s, scores, prediction: judged.prediction, correct: judged.correct, extra: { ...extra, probe_pending: false } });
    }
  }
  const out: Sample[] = [];
  const sources: number[] = [];
  for (const [i, s] of samples.entries()) {
    if (!replaced.has(s)) {
      out.push(s);
      sources.push(i);
    } else {
      const r = replaced.get(s);
      if (r) {
        out.push(r);
        sources.push(i);
      }
    }
  }
  return { samples: out, probes, sources };
}
