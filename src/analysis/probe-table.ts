import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec } from '../config/experiment.js';
import type { Sample } from '../store/sample.js';
import type { ProbeRun } from './probe.js';
import { bootstrapInterval, type Interval } from './statistics.js';

/** Accuracy on a set of probe rows, with a percentile bootstrap CI resampling whole fold groups. */
export interface ProbeCell {
  n: number;
  accuracy: number | null;
  ci: Interval | null;
}

export interface ProbeTableRow {
  arm: string;
  /** `probe`: the probe's own class prediction; `arm`: the arm's pick among the options, read as a class. */
  kind: 'probe' | 'arm';
  overall: ProbeCell;
  /** One cell per class of the table, in `classes` order. */
  perClass: ProbeCell[];
}

/** A probe beside the run's other arms on the same (item, image) rows. */
export interface ProbeTable {
  benchmark: string;
  probeArm: string;
  target: string;
  embedding: string;
  folds: number;
  l2: number;
  seed: number;
  dim: number;
  components: number;
  classes: string[];
  excluded: Array<{ label: string; rows: number }>;
  minClassSamples: number;
  /** How the other arms' rows are judged (see `ProbeTableRow.kind`). */
  armRule: 'option class' | 'item correct';
  rows: ProbeTableRow[];
}

function firstMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Accuracy overall and per class, each with a bootstrap CI over fold groups (seeded). */
function cells(
  outcomes: Array<{ label: string; group: string; right: boolean }>,
  classes: string[],
  seed: number,
): { overall: ProbeCell; perClass: ProbeCell[] } {
  const cell = (subset: typeof outcomes): ProbeCell => {
    if (subset.length === 0) return { n: 0, accuracy: null, ci: null };
    const groups = new Map<string, { n: number; right: number }>();
    for (const o of subset) {
      const g = groups.get(o.group) ?? { n: 0, right: 0 };
      g.n += 1;
      if (o.right) g.right += 1;
      groups.set(o.group, g);
    }
    const units = [...groups.values()];
    const ci = bootstrapInterval(
      units.length,
      (idx) => {
        let n = 0;
        let right = 0;
        for (const i of idx) {
          n += units[i]!.n;
          right += units[i]!.right;
        }
        return right / n;
      },
      { seed },
    );
    return { n: subset.length, accuracy: subset.filter((o) => o.right).length / subset.length, ci };
  };
  return { overall: cell(outcomes), perClass: classes.map((c) => cell(outcomes.filter((o) => o.label === c))) };
}

/**
 * The probe table of each probe run: the probe's held-out class accuracy and, on the same
 * (item, image) rows, every other non-probe arm of the run (zero-shot CLIP, each VLM arm), per class
 * and overall. An arm is right on a row when the option it scores highest on that image (first
 * maximum) has the row's class (families whose options carry classes), else when its item is
 * correct (ARO VG-Relation, whose two captions share the relation).
 */
export function probeTables(runs: ProbeRun[], samples: Sample[], formats: Map<string, BenchmarkSpec['format']>, options: { seed?: number } = {}): ProbeTable[] {
  const seed = options.seed ?? 0;
  const probeArms = new Set(runs.map((r) => r.arm));
  return runs.map((run) => {
    const format = formats.get(run.benchmark);
    const declaration = format === undefined ? undefined : benchmarkFamily(format).probe;
    const optionClasses = declaration?.optionClasses;
    const rows: ProbeTableRow[] = [
      {
        arm: run.arm,
        kind: 'probe',
        ...cells(
          run.rows.map((r) => ({ label: r.label, group: r.group, right: r.predicted === r.label })),
          run.classes,
          seed,
        ),
      },
    ];
    const others = new Map<string, Map<string, Sample>>();
    for (const s of samples) {
      if (s.benchmark !== run.benchmark || probeArms.has(s.arm) || s.status !== 'ok' || s.extra.probe_pending !== undefined) continue;
      let byItem = others.get(s.arm);
      if (!byItem) others.set(s.arm, (byItem = new Map()));
      byItem.set(s.item, s);
    }
    for (const [arm, byItem] of others) {
      const outcomes: Array<{ label: string; group: string; right: boolean }> = [];
      for (const r of run.rows) {
        const s = byItem.get(r.item);
        if (!s?.scores) continue;
        let right: boolean;
        if (optionClasses) {
          const row = s.scores[r.image];
          if (!row) continue;
          const classes =
            optionClasses({ groups: s.groups, options: s.options, correct: s.correct_option, images: s.images.map((i) => i.path) })[r.image] ?? [];
          right = classes[firstMax(row)] === r.label;
        } else right = s.correct === true;
        outcomes.push({ label: r.label, group: r.group, right });
      }
      rows.push({ arm, kind: 'arm', ...cells(outcomes, run.classes, seed) });
    }
    return {
      benchmark: run.benchmark,
      probeArm: run.arm,
      target: run.target,
      embedding: run.settings.embedding,
      folds: run.folds,
      l2: run.settings.l2,
      seed: run.settings.seed,
      dim: run.dim,
      components: run.components,
      classes: run.classes,
      excluded: run.excluded,
      minClassSamples: run.minClassSamples,
      armRule: optionClasses ? 'option class' : 'item correct',
      rows,
    };
  });
}
