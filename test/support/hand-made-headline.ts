import path from 'node:path';
import type { BenchmarkSpec } from '../../src/config/experiment.js';
import type { ReportManifest } from '../../src/report/report-model.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import type { Sample } from '../../src/store/sample.js';

/**
 * A hand-made sample set for the headline table (no model, no service): two SugarCrepe-format
 * benchmarks of 30 items. CLIP is right on items 0–14. Each other arm's split is given as
 * [only the arm right, only CLIP right]: it is wrong on the first `onlyBaseline` of CLIP's right
 * items, right on the first `onlyArm` of CLIP's wrong ones (15, 16, …).
 *
 * Default on `sugarcrepe.a`: vlm.mcq 12/2 (circular option order), vlm.vqascore 0/9,
 * vlm2vec.question 3/3 with item 29 failed, vlm.generate 1/8 (fixed order), and `clip.l2`, a
 * second arm of CLIP's kind 5/0; on `sugarcrepe.b`: vlm.generate 1/8 alone.
 */
export interface HeadlineRunSpec {
  runId?: string;
  /** benchmark → arm → [onlyArm, onlyBaseline]. */
  splits?: Record<string, Record<string, [number, number]>>;
  /** Option orders of the letter arms, replacing the defaults (vlm.mcq circular, vlm.generate fixed). */
  orders?: Record<string, 'fixed' | 'circular'>;
}

export const DEFAULT_SPLITS: Record<string, Record<string, [number, number]>> = {
  'sugarcrepe.a': { 'vlm.mcq': [12, 2], 'vlm.vqascore': [0, 9], 'vlm2vec.question': [3, 3], 'vlm.generate': [1, 8], 'clip.l2': [5, 0] },
  'sugarcrepe.b': { 'vlm.generate': [1, 8] },
};

const ARMS: Record<string, { kind: string; model: string; prompt: { id: string; version: number }; order?: 'fixed' | 'circular' }> = {
  clip: { kind: 'clip', model: 'clip', prompt: { id: 'clip.raw-caption', version: 1 } },
  'clip.l2': { kind: 'clip', model: 'clip', prompt: { id: 'clip.raw-caption', version: 1 } },
  'vlm.mcq': { kind: 'vlm.mcq', model: 'llava', prompt: { id: 'mcq.sugarcrepe', version: 2 }, order: 'circular' },
  'vlm.vqascore': { kind: 'vlm.vqascore', model: 'llava', prompt: { id: 't2v.vqascore', version: 1 } },
  'vlm2vec.question': { kind: 'vlm2vec.question', model: 'llava', prompt: { id: 'vlm2vec.question', version: 1 } },
  'vlm.generate': { kind: 'vlm.generate', model: 'llava', prompt: { id: 'generate.letters', version: 3 }, order: 'fixed' },
};

const ITEMS = 30;
const CLIP_RIGHT = 15;

/** The option-order record a letter arm keeps in `extra` (core/option-order.ts), for two options. */
function optionOrderExtra(order: 'fixed' | 'circular', right: boolean): Record<string, unknown> {
  const perms =
    order === 'circular'
      ? [
          [0, 1],
          [1, 0],
        ]
      : [[0, 1]];
  const scores = right ? [[1, 0]] : [[0, 1]];
  // The correct option (0) sits at the position where the permutation puts it; a right answer picks it.
  const correctAt = perms.map((p) => p.indexOf(0));
  return {
    option_order: order,
    option_permutations: perms,
    position_picks: correctAt.map((c) => [right ? c : 1 - c]),
    position_correct: correctAt.map((c) => [c]),
    round_scores: perms.map(() => scores),
  };
}

function sample(runId: string, benchmark: string, arm: string, k: number, correct: boolean | null, orders: Record<string, 'fixed' | 'circular'> = {}): Sample {
  const spec = ARMS[arm]!;
  const order = orders[arm] ?? spec.order;
  const failed = correct === null;
  return {
    run_id: runId,
    task: `${benchmark}-${arm}-${k}`,
    item: `${benchmark}/${k}`,
    benchmark,
    subset: 'add_obj',
    arm,
    arm_kind: spec.kind,
    model: spec.model,
    model_hash: spec.model[0]!.repeat(64),
    prompt: spec.prompt,
    images: [{ path: `/nonexistent/${k}.jpg`, sha256: 'x' }],
    options: [`caption ${k}`, `negative ${k}`],
    correct_option: 0,
    status: failed ? 'failed' : 'ok',
    scores: failed ? null : [correct ? [1, 0] : [0, 1]],
    prediction: failed ? null : correct ? 0 : 1,
    correct,
    extra: failed || order === undefined ? {} : optionOrderExtra(order, correct),
    error: failed ? { code: 'bad-image', message: 'corrupt' } : null,
    latency_ms: 1,
    timings: null,
    groups: {},
    source: { file: 'add_obj.json', row: k },
    finished_at: '2026-11-30T00:00:00.000Z',
  };
}

export function handMadeHeadlineRun(spec: HeadlineRunSpec = {}): {
  samples: Sample[];
  formats: Map<string, BenchmarkSpec['format']>;
  manifest: ReportManifest & { run_id: string; config: { baseline: string; benchmarks: Array<{ name: string; format: string; subset: string }> } };
} {
  const runId = spec.runId ?? 'headline';
  const splits = spec.splits ?? DEFAULT_SPLITS;
  const samples: Sample[] = [];
  for (const [benchmark, arms] of Object.entries(splits)) {
    for (let k = 0; k < ITEMS; k++) samples.push(sample(runId, benchmark, 'clip', k, k < CLIP_RIGHT));
    for (const [arm, [onlyArm, onlyBaseline]] of Object.entries(arms)) {
      for (let k = 0; k < ITEMS; k++) {
        const right = k < CLIP_RIGHT ? k >= onlyBaseline : k < CLIP_RIGHT + onlyArm;
        const failed = benchmark === 'sugarcrepe.a' && arm === 'vlm2vec.question' && k === ITEMS - 1;
        samples.push(sample(runId, benchmark, arm, k, failed ? null : right, spec.orders));
      }
    }
  }
  const armIds = [...new Set(samples.map((s) => s.arm))];
  const manifest = {
    run_id: runId,
    created_at: '2026-11-30T00:00:00.000Z',
    models: [
      { name: 'clip', kind: 'clip', files: ['/m/clip'], hash: 'c'.repeat(64) },
      { name: 'llava', kind: 'llama', files: ['/m/a.gguf', '/m/b.gguf'], hash: 'l'.repeat(64) },
    ],
    arms: armIds.map((a) => ({ arm: a, model: ARMS[a]!.model, prompt: ARMS[a]!.prompt })),
    datasets: Object.keys(splits).map((name) => ({ name, format: 'sugarcrepe', annotations: 'add_obj.json', annotations_sha256: null, items: ITEMS })),
    config: { baseline: 'clip', benchmarks: Object.keys(splits).map((name) => ({ name, format: 'sugarcrepe', subset: 'add_obj' })) },
  };
  return { samples, formats: new Map(Object.keys(splits).map((b) => [b, 'sugarcrepe'] as const)), manifest };
}

/** The same set written as a run directory (manifest.json + samples.jsonl) under `dir`. */
export function writeHandMadeHeadlineRun(dir: string, spec: HeadlineRunSpec = {}): RunDirectory {
  const { samples, manifest } = handMadeHeadlineRun(spec);
  const run = new RunDirectory(path.resolve(dir), manifest.run_id);
  run.create();
  run.writeJson('manifest.json', manifest);
  for (const s of samples) run.appendSample(s);
  return run;
}
