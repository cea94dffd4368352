/**
 * The probe arm on the generated tiny CLIP (real onnxruntime-node, one thread) and the synthetic
 * What'sUp set: the frozen embeddings it records (image_embeds, and the pooled output checked
 * against the projection read from the ONNX initializers), and the report-time probe on them:
 * grouped folds, held-out probabilities as option scores.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProbes } from '../../src/analysis/probe.js';
import { whatsupControlledFamily } from '../../src/benchmarks/whatsup/family.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import { decodeEmbedding } from '../../src/core/embedding-codec.js';
import { PerceiveError } from '../../src/core/errors.js';
import { loadImage } from '../../src/core/image.js';
import type { Item } from '../../src/core/item.js';
import { ProbeExtraSchema } from '../../src/core/probe-features.js';
import { writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';
import { clipSizesFromTiny, writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { ClipEncoder } from '../../src/models/clip/clip-encoder.js';
import { readFloatInitializers } from '../../src/models/clip/onnx-graph-reader.js';
import { ProbeArm } from '../../src/models/clip/probe-arm.js';
import type { Sample } from '../../src/store/sample.js';

let tmp: string;
let clipDir: string;
let encoder: ClipEncoder;
let items: Item[];

const SETTINGS = { folds: 3, l2: 0.01, seed: 0 };

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'probe-arm-'));
  clipDir = (await writeTinyClip(path.join(tmp, 'clip'), { seed: 3 })).dir;
  encoder = await ClipEncoder.load(clipDir, { threads: 1, batchSize: 8 });
  const whatsup = await writeSyntheticWhatsUp(path.join(tmp, 'whatsup'), { seed: 1 });
  const spec = BenchmarkSpecSchema.parse({
    name: 'whatsup.synthetic',
    format: 'whatsup-controlled',
    annotations: whatsup.annotationFile,
    data_dir: whatsup.dataDir,
    subset: 'controlled_a',
  });
  const loaded = await whatsupControlledFamily.load(spec);
  expect(loaded.failures).toEqual([]);
  items = loaded.items;
}, 120_000);

afterAll(async () => {
  await encoder?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

/** The arm's output on every item, as the samples a run would export. */
async function samplesOf(arm: ProbeArm): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const item of items) {
    const images = await Promise.all(item.images.map((f) => loadImage(f)));
    const result = await arm.score(item, images);
    out.push({
      run_id: 'probe-test',
      task: `${arm.id}/${item.id}`,
      item: item.id,
      benchmark: item.benchmark,
      subset: item.subset,
      arm: arm.id,
      arm_kind: 'probe',
      model: arm.model,
      model_hash: arm.modelHash,
      prompt: null,
      images: images.map((i) => ({ path: i.path, sha256: i.sha256 })),
      options: item.options,
      correct_option: item.correct,
      status: 'ok',
      scores: result.scores,
      prediction: 0,
      correct: null,
      extra: JSON.parse(JSON.stringify(result.extra)) as Record<string, unknown>, // as samples.jsonl holds it
      error: null,
      latency_ms: 0,
      timings: null,
      groups: item.groups,
      source: item.source,
      finished_at: 'now',
    });
  }
  return out;
}

describe('the probe arm on the tiny CLIP', () => {
  it('records image_embeds (normalised, the zero-shot embedding) and pooled (whose projection is image_embeds)', async () => {
    const sizes = clipSizesFromTiny();
    const embeds = await samplesOf(new ProbeArm('clip', encoder, { embedding: 'image_embeds', ...SETTINGS }, 'probe.image_embeds'));
    const pooled = await samplesOf(new ProbeArm('clip', encoder, { embedding: 'pooled', ...SETTINGS }, 'probe.pooled'));
    expect(embeds).toHaveLength(24);
    const projection = (await readFloatInitializers(path.join(clipDir, 'onnx', 'vision_model.onnx'), ['visual_projection.weight'])).get(
      'visual_projection.weight',
    )!;
    expect(projection).toHaveLength(sizes.vision.width * sizes.projection);
    for (const [k, s] of embeds.entries()) {
      const extra = ProbeExtraSchema.parse(s.extra);
      expect(extra.probe_settings).toEqual({ embedding: 'image_embeds', ...SETTINGS });
      expect(s.scores).toEqual([[0, 0, 0, 0]]);
      const e = decodeEmbedding(extra.probe_features[0]!)!;
      expect(e).toHaveLength(sizes.projection);
      const [direct] = await encoder.encodeImages([await loadImage(s.images[0]!.path)]);
      expect(Array.from(e)).toEqual(Array.from(direct!));
      // pooled · visual_projection, normalised = image_embeds (the graph's own MatMul), to float precision.
      const p = decodeEmbedding(ProbeExtraSchema.parse(pooled[k]!.extra).probe_features[0]!)!;
      expect(p).toHaveLength(sizes.vision.width);
      const projected = Array.from({ length: sizes.projection }, (_, j) => p.reduce((sum, v, i) => sum + v * projection[i * sizes.projection + j]!, 0));
      const norm = Math.hypot(...projected);
      projected.forEach((v, j) => expect(v / norm).toBeCloseTo(e[j]!, 5));
    }
  });

  it('fits the grouped cross-validated probe on the recorded embeddings and scores every item', async () => {
    const samples = await samplesOf(new ProbeArm('clip', encoder, { embedding: 'image_embeds', ...SETTINGS }, 'probe.image_embeds'));
    const { samples: out, probes } = applyProbes(samples, new Map([['whatsup.synthetic', 'whatsup-controlled' as const]]));
    expect(probes).toHaveLength(1);
    const run = probes[0]!;
    expect(run.classes).toEqual(['left_of', 'on', 'right_of', 'under']);
    expect(run.folds).toBe(3);
    expect(run.rows).toHaveLength(24);
    const foldsOf = new Map<string, Set<number>>();
    for (const r of run.rows) foldsOf.set(r.group, (foldsOf.get(r.group) ?? new Set()).add(r.fold));
    expect(foldsOf.size).toBe(6); // 6 object pairs
    for (const f of foldsOf.values()) expect(f.size).toBe(1);
    expect(out).toHaveLength(24);
    for (const s of out) {
      const row = run.rows.find((r) => r.item === s.item)!;
      expect(row.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      // The correct caption (first) carries the probability of the image's own preposition.
      expect(s.scores![0]![0]).toBeCloseTo(row.probabilities[run.classes.indexOf(s.groups.preposition!)]!, 12);
      expect(s.correct).toBe(whatsupControlledFamily.judge({ ...items.find((i) => i.id === s.item)! }, s.scores!).correct);
      expect(s.correct).toBe(row.predicted === row.label);
    }
  });

  it('pooled on a combined model.onnx export is not applicable, with the reason', async () => {
    const combined = (await writeTinyClip(path.join(tmp, 'combined'), { seed: 3, layout: 'combined' })).dir;
    const other = await ClipEncoder.load(combined, { threads: 1 });
    try {
      const arm = new ProbeArm('clip', other, { embedding: 'pooled', ...SETTINGS }, 'probe.pooled');
      const error = await arm.score(items[0]!, [await loadImage(items[0]!.images[0]!)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PerceiveError);
      expect((error as PerceiveError).code).toBe('arm-not-applicable');
      expect((error as PerceiveError).message).toMatch(/no vision last_hidden_state output/);
    } finally {
      await other.close();
    }
  });
});
