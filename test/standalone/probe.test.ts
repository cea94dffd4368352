import { describe, expect, it } from 'vitest';
import { applyProbes } from '../../src/analysis/probe.js';
import { probeTables } from '../../src/analysis/probe-table.js';
import { probeCsvTables, probeMarkdown, probeSentence } from '../../src/report/probe-report.js';
import { groupedFolds } from '../../src/analysis/probe-folds.js';
import { fitProbe, MAX_PARAMETERS } from '../../src/analysis/probe-regression.js';
import { decodeEmbedding, encodeEmbedding } from '../../src/core/embedding-codec.js';
import { probeExtra } from '../../src/core/probe-features.js';
import { mulberry32 } from '../../src/core/seeded-random.js';
import type { Sample } from '../../src/store/sample.js';

/** Standard normal draws from the project's seeded generator (Box–Muller). */
function normals(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const PREPOSITIONS = ['left_of', 'on', 'right_of', 'under'] as const;
const WORDS: Record<string, string> = { left_of: 'left of', right_of: 'right of', on: 'on', under: 'under' };

/**
 * A What'sUp-shaped run of the probe arm: `sets` object pairs × 4 prepositions, one image each, the
 * correct caption first. `encoded`: the preposition is a direction of the embedding (plus noise);
 * otherwise the embedding is noise alone.
 */
function whatsupSamples(sets: number, dim: number, encoded: boolean, seed: number): Sample[] {
  const gauss = normals(mulberry32(seed));
  const out: Sample[] = [];
  for (let set = 0; set < sets; set++) {
    // Each object pair has its own offset (what a probe could memorise if a pair sat on both sides).
    const offset = Array.from({ length: dim }, () => gauss());
    PREPOSITIONS.forEach((prep, c) => {
      const v = new Float32Array(dim);
      for (let j = 0; j < dim; j++) v[j] = offset[j]! + gauss() + (encoded && j === c ? 6 : 0);
      const captions = [prep, ...PREPOSITIONS.filter((p) => p !== prep)].map((p) => `a mug ${WORDS[p]} a table`);
      out.push({
        run_id: 'r',
        task: `t${set}-${c}`,
        item: `whatsup.synthetic/${set * 4 + c}`,
        benchmark: 'whatsup.synthetic',
        subset: 'controlled_a',
        arm: 'probe',
        arm_kind: 'probe',
        model: 'clip',
        model_hash: 'h',
        prompt: null,
        images: [{ path: `img/${set}-${prep}.jpeg`, sha256: `${set}${c}` }],
        options: captions,
        correct_option: 0,
        status: 'ok',
        scores: [[0, 0, 0, 0]],
        prediction: 0,
        correct: true,
        extra: probeExtra([v], { embedding: 'image_embeds', folds: 5, l2: 0.01, seed: 3 }),
        error: null,
        latency_ms: 1,
        timings: null,
        groups: { variant: 'A', preposition: prep, set: `mug|table${set}`, pair: `mug|table${set}|x`, slot: prep, convention: 'whatsup_vlms' },
        source: { file: 'f.json', row: set * 4 + c },
        finished_at: 't',
      });
    });
  }
  return out;
}

const FORMATS = new Map([['whatsup.synthetic', 'whatsup-controlled' as const]]);

describe('grouped folds', () => {
  it('never puts one group in two folds, balances rows, and is seeded', () => {
    const groups = Array.from({ length: 103 }, (_, i) => `g${i % 23}`);
    const folds = groupedFolds(groups, 5, 1);
    const foldOf = new Map<string, Set<number>>();
    groups.forEach((g, i) => foldOf.set(g, (foldOf.get(g) ?? new Set()).add(folds[i]!)));
    for (const set of foldOf.values()) expect(set.size).toBe(1);
    const sizes = [0, 1, 2, 3, 4].map((f) => folds.filter((x) => x === f).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(103);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(5); // groups hold 4 or 5 rows
    expect(groupedFolds(groups, 5, 1)).toEqual(folds);
    expect(groupedFolds(groups, 5, 2)).not.toEqual(folds);
    // fewer groups than folds: one fold per group
    expect(new Set(groupedFolds(['a', 'b', 'a'], 5, 0))).toEqual(new Set([0, 1]));
  });
});

describe('the L2 logistic regression', () => {
  it('separates linearly encoded classes and gives probabilities that sum to 1', () => {
    const gauss = normals(mulberry32(5));
    const make = (c: number) => Float32Array.from({ length: 8 }, (_, j) => gauss() + (j === c ? 5 : 0));
    const labels = Array.from({ length: 90 }, (_, i) => i % 3);
    const fit = fitProbe(labels.map(make), labels, [0, 1, 2].map(make), { l2: 0.01, classes: 3 });
    fit.probabilities.forEach((p, c) => {
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(p[c]!).toBeGreaterThan(0.9);
    });
    expect(fit.components).toBe(8);
  });

  it('a stronger L2 pulls probabilities toward uniform', () => {
    const gauss = normals(mulberry32(6));
    const make = (c: number) => Float32Array.from({ length: 4 }, (_, j) => gauss() + (j === c ? 2 : 0));
    const labels = Array.from({ length: 40 }, (_, i) => i % 2);
    const train = labels.map(make);
    const test = [make(0)];
    const weak = fitProbe(train, labels, test, { l2: 1e-3, classes: 2 }).probabilities[0]!;
    const strong = fitProbe(train, labels, test, { l2: 100, classes: 2 }).probabilities[0]!;
    expect(Math.abs(strong[0]! - 0.5)).toBeLessThan(Math.abs(weak[0]! - 0.5));
    expect(Math.abs(strong[0]! - 0.5)).toBeLessThan(0.05);
  });

  it('caps the parameters with principal components when the embedding is wide', () => {
    const gauss = normals(mulberry32(7));
    const dim = 600;
    // the class moves 100 of the 600 dimensions (a direction, as in a real embedding)
    const make = (c: number) => Float32Array.from({ length: dim }, (_, j) => gauss() + (j < 400 && j % 4 === c ? 1.5 : 0));
    const labels = Array.from({ length: 60 }, (_, i) => i % 4);
    const fit = fitProbe(labels.map(make), labels, [0, 1, 2, 3].map(make), { l2: 0.01, classes: 4 });
    expect(fit.components).toBeLessThanOrEqual(Math.min(59, MAX_PARAMETERS / 4 - 1));
    expect(fit.probabilities.map((p) => p.indexOf(Math.max(...p)))).toEqual([0, 1, 2, 3]);
  });
});

describe('the cross-validated probe on a What\u2019sUp-shaped set', () => {
  it('reaches about 100 % where the class is linearly encoded, and turns it into option scores', () => {
    const samples = whatsupSamples(20, 12, true, 11);
    const { samples: out, probes } = applyProbes(samples, FORMATS);
    expect(probes).toHaveLength(1);
    const run = probes[0]!;
    expect(run.classes).toEqual(['left_of', 'on', 'right_of', 'under']);
    expect(run.folds).toBe(5);
    expect(run.rows).toHaveLength(80);
    const accuracy = run.rows.filter((r) => r.predicted === r.label).length / run.rows.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
    // No object pair on both sides of a fold.
    const folds = new Map<string, Set<number>>();
    for (const r of run.rows) folds.set(r.group, (folds.get(r.group) ?? new Set()).add(r.fold));
    expect([...folds.values()].every((s) => s.size === 1)).toBe(true);
    // Option j's score = the probability of caption j's preposition; judged by What'sUp's rule.
    const first = out.find((s) => s.item === 'whatsup.synthetic/0')!;
    const row = run.rows.find((r) => r.item === 'whatsup.synthetic/0')!;
    expect(first.scores![0]![0]).toBeCloseTo(row.probabilities[run.classes.indexOf('left_of')]!, 12);
    expect(first.scores![0]![1]).toBeCloseTo(row.probabilities[run.classes.indexOf('on')]!, 12);
    expect(first.extra.probe_pending).toBe(false);
    expect(first.extra.probe_features).toBeUndefined();
    expect(out.filter((s) => s.correct).length / out.length).toBeGreaterThanOrEqual(0.95);
  });

  it('stays near chance (25 %) where the embedding holds no class', () => {
    const samples = whatsupSamples(40, 12, false, 12);
    const run = applyProbes(samples, FORMATS).probes[0]!;
    const accuracy = run.rows.filter((r) => r.predicted === r.label).length / run.rows.length;
    expect(accuracy).toBeGreaterThan(0.1);
    expect(accuracy).toBeLessThan(0.4);
  });

  it('is deterministic for a seed, and drops probe samples of a benchmark without classes', () => {
    const samples = whatsupSamples(10, 6, true, 13);
    const a = applyProbes(samples, FORMATS).probes[0]!.rows.map((r) => r.fold);
    const b = applyProbes(samples, FORMATS).probes[0]!.rows.map((r) => r.fold);
    expect(a).toEqual(b);
    const other = samples.map((s) => ({ ...s, benchmark: 'sugarcrepe.synthetic' }));
    const out = applyProbes(other, new Map([['sugarcrepe.synthetic', 'sugarcrepe' as const]]));
    expect(out.probes).toEqual([]);
    expect(out.samples).toEqual([]);
  });
});

describe('embedding codec', () => {
  it('round-trips float32 values', () => {
    const v = Float32Array.of(1.5, -0.25, 3e-8, 0);
    expect(decodeEmbedding(encodeEmbedding(v))).toEqual(v);
    expect(decodeEmbedding('AAA=')).toBeUndefined();
  });
});

describe('the probe table beside the other arms', () => {
  it('puts the probe beside zero-shot CLIP per class and overall, with CIs and one generated sentence', () => {
    const probe = whatsupSamples(20, 12, true, 21);
    // A hand-made CLIP: right (option 0 highest) on left_of and on, wrong (option 1 highest) on right_of and under.
    const clip = probe.map((s) => {
      const right = s.groups.preposition === 'left_of' || s.groups.preposition === 'on';
      return { ...s, arm: 'clip', arm_kind: 'clip', extra: {}, scores: [right ? [0.3, 0.2, 0.1, 0.1] : [0.2, 0.3, 0.1, 0.1]], correct: right };
    });
    const { samples, probes } = applyProbes([...probe, ...clip], FORMATS);
    const [table] = probeTables(probes, samples, FORMATS);
    expect(table!.classes).toEqual(['left_of', 'on', 'right_of', 'under']);
    expect(table!.rows.map((r) => `${r.arm} ${r.kind}`)).toEqual(['probe probe', 'clip arm']);
    const clipRow = table!.rows[1]!;
    expect(clipRow.overall).toMatchObject({ n: 80, accuracy: 0.5 });
    expect(clipRow.perClass.map((c) => c.accuracy)).toEqual([1, 1, 0, 0]);
    expect(clipRow.perClass.map((c) => c.n)).toEqual([20, 20, 20, 20]);
    expect(clipRow.perClass[0]!.ci).toEqual({ low: 1, high: 1 });
    const probeRow = table!.rows[0]!;
    expect(probeRow.overall.accuracy!).toBeGreaterThanOrEqual(0.95);
    expect(probeRow.overall.ci!.low).toBeGreaterThan(0.5);
    const sentence = probeSentence(table!, 'clip');
    expect(sentence).toContain(`with ${(100 * probeRow.overall.accuracy!).toFixed(1)} % accuracy`);
    expect(sentence).toContain('where zero-shot `clip` reaches 50.0 %');
    expect(sentence).toContain('linearly readable from the embedding beyond what zero-shot matching');
    const md = probeMarkdown([table!], 'clip').join('\n');
    expect(md).toContain('## Linear probe: what the frozen image embedding holds');
    expect(md).toContain('| clip | 50.0 ');
    expect(md).toContain('5-fold cross-validation grouped');
    const csv = probeCsvTables([table!], probes);
    expect(csv['probe.csv']!.rows).toHaveLength(2 * 5);
    expect(csv['probe.csv']!.rows[5]).toEqual([
      'whatsup.synthetic',
      'probe',
      'image_embeds',
      'preposition',
      'clip',
      'arm',
      'overall',
      80,
      0.5,
      expect.any(Number),
      expect.any(Number),
    ]);
    expect(csv['probe-folds.csv']!.rows).toHaveLength(80);
  });

  it('says so when the probe is not above chance', () => {
    const { samples, probes } = applyProbes(whatsupSamples(20, 12, false, 22), FORMATS);
    const [table] = probeTables(probes, samples, FORMATS);
    expect(probeSentence(table!, 'clip')).toMatch(/not above chance/);
  });
});

describe('the families’ probe classes', () => {
  it('MMVP-VLM: each image is the side of its true statement; options are the sides', async () => {
    const { MMVP_VLM_PROBE } = await import('../../src/benchmarks/mmvp-vlm/probe-classes.js');
    const item = { groups: { pair: '3', gt: '0,1' }, options: ['a photo of x', 'a photo of y'], correct: 0, images: ['a.jpg', 'b.jpg'] };
    expect(MMVP_VLM_PROBE.imageClasses(item)).toEqual(['statement 1', 'statement 2']);
    expect(MMVP_VLM_PROBE.optionClasses!(item)).toEqual([
      ['statement 1', 'statement 2'],
      ['statement 1', 'statement 2'],
    ]);
    expect(MMVP_VLM_PROBE.group(item)).toBe('3');
  });

  it('ARO: VG-Relation rows are their relation, grouped by image; VG-Attribution has no class', async () => {
    const { ARO_VG_PROBE, ARO_RELATION_MIN_SAMPLES } = await import('../../src/benchmarks/aro/probe-classes.js');
    const rel = { groups: { kind: 'relation', relation: 'on' }, options: ['x', 'y'], correct: 1, images: ['img/1.jpg'] };
    expect(ARO_VG_PROBE.imageClasses(rel)).toEqual(['on']);
    expect(ARO_VG_PROBE.group(rel)).toBe('img/1.jpg');
    expect(ARO_VG_PROBE.imageClasses({ ...rel, groups: { kind: 'attribution', attributes: 'red_blue' } })).toEqual([undefined]);
    expect(ARO_VG_PROBE.optionClasses).toBeUndefined();
    expect(ARO_RELATION_MIN_SAMPLES).toBe(50);
  });

  it("What'sUp: a caption's preposition word maps to the authors' label; the word-order option has none", async () => {
    const { captionPreposition } = await import('../../src/benchmarks/whatsup/probe-classes.js');
    expect(
      ['A mug to the left of a plate', 'A mug in front of a plate', 'A mug on a plate', 'A mug under a plate', 'a mug near a plate'].map(captionPreposition),
    ).toEqual(['left_of', 'in-front_of', 'on', 'under', undefined]);
    const { benchmarkFamily } = await import('../../src/benchmarks/registry.js');
    const probe = benchmarkFamily('whatsup-controlled').probe!;
    const item = {
      groups: { preposition: 'on', set: 'mug|plate', word_order: 'added', word_order_option: '4' },
      options: ['A mug on a plate', 'A mug under a plate', 'A mug to the left of a plate', 'A mug to the right of a plate', 'plate a on mug A'],
      correct: 0,
      images: ['x.jpeg'],
    };
    expect(probe.optionClasses!(item)).toEqual([['on', 'under', 'left_of', 'right_of', undefined]]);
  });
});
