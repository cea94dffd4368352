import fs from 'node:fs';
import path from 'node:path';
import { loadWhatsUpControlled } from '../../src/benchmarks/whatsup/loader.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import type { Sample } from '../../src/store/sample.js';

/**
 * A run directory written by hand (no model): 8 synthetic What'sUp items (2 object pairs), two
 * arms whose per-item correctness is given, and CLIP image-pair cosines, for report tests.
 */
export async function writeHandMadeRun(
  dir: string,
  correct: { clip: boolean[]; vlm: boolean[] },
  options: { pairCosines?: number[] } = {},
): Promise<RunDirectory> {
  const set = await writeSyntheticWhatsUp(path.join(dir, 'whatsup'), { seed: 1, pairs: 2 });
  const { items } = await loadWhatsUpControlled(set.annotationFile, { dataDir: set.dataDir, subset: 'controlled_a' });
  const run = new RunDirectory(path.join(dir, 'results'), 'hand-made');
  run.create();
  run.writeJson('manifest.json', {
    run_id: 'hand-made',
    created_at: '2026-11-22T00:00:00.000Z',
    perceive: { version: '0.0.0', commit: null },
    llama_cpp: { tag: 'v0.5.0', build_info: 'test' },
    models: [
      { name: 'clip', kind: 'clip', files: ['/m/clip'], hash: 'c'.repeat(64), fixture: true },
      { name: 'llava', kind: 'llama', files: ['/m/a.gguf', '/m/b.gguf'], hash: 'l'.repeat(64), fixture: true },
    ],
    arms: [
      { arm: 'clip', model: 'clip', prompt: { id: 'clip.raw-caption', version: 1 } },
      { arm: 'vlm.vqascore', model: 'llava', prompt: { id: 't2v_metrics.vqascore.llava-v1.5', version: 1 } },
    ],
    datasets: [{ name: 'whatsup.synthetic', annotations: set.annotationFile, annotations_sha256: null, items: items.length }],
    config: { baseline: 'clip', benchmarks: [{ name: 'whatsup.synthetic', format: 'whatsup-controlled', subset: 'controlled_a' }] },
  });
  const pairs = [...new Set(items.map((i) => i.groups.pair!))];
  items.forEach((item, k) => {
    for (const [arm, model] of [
      ['clip', 'clip'],
      ['vlm.vqascore', 'llava'],
    ] as const) {
      const ok = (arm === 'clip' ? correct.clip : correct.vlm)[k]!;
      const row = ok ? [0.9, 0.1, 0.1, 0.1] : [0.1, 0.9, 0.1, 0.1];
      const pairIndex = pairs.indexOf(item.groups.pair!);
      const sample: Sample = {
        run_id: 'hand-made',
        task: `${arm}-${k}`,
        item: `whatsup.synthetic/${k}`,
        benchmark: 'whatsup.synthetic',
        subset: 'controlled_a',
        arm,
        model,
        model_hash: model[0]!.repeat(64),
        prompt: null,
        images: item.images.map((p) => ({ path: p, sha256: 'x' })),
        options: item.options,
        correct_option: 0,
        status: 'ok',
        scores: [row],
        prediction: ok ? 0 : 1,
        correct: ok,
        extra: arm === 'clip' && options.pairCosines ? { image_pair_cosine: options.pairCosines[pairIndex] } : {},
        error: null,
        latency_ms: 1,
        timings: null,
        groups: item.groups,
        source: item.source,
        finished_at: '2026-11-22T00:00:00.000Z',
      };
      run.appendSample(sample);
    }
  });
  fs.mkdirSync(run.dir, { recursive: true });
  return run;
}
