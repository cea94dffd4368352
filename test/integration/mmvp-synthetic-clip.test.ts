/**
 * The synthetic MMVP set through the real CLIP path (tiny CLIP ONNX on onnxruntime-node, the `clip`
 * arm): Questions-clip.csv pairs are scored text-to-image exactly as CLIP-Embeds' eval_MMVP does, and
 * the MMVP questions by option scores. The tiny model is random, so only shapes, ranges and the
 * consistency between judge and metrics are asserted, plus the rule applied to the real cosines.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipArm } from '../../src/models/clip/clip-arm.js';
import { mmvpFamily } from '../../src/benchmarks/mmvp/family.js';
import { mmvpClipFamily } from '../../src/benchmarks/mmvp-vlm/family.js';
import { softmaxFirst } from '../../src/benchmarks/mmvp-vlm/metrics.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import { writeSyntheticMmvp } from '../../src/fixtures/synthetic-mmvp.js';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { loadImage } from '../../src/core/image.js';
import type { Item, ScoreMatrix } from '../../src/core/item.js';
import { ClipEncoder } from '../../src/models/clip/clip-encoder.js';

let tmp: string;
let arm: ClipArm;
let mmvpDir: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mmvp-clip-'));
  const clip = await writeTinyClip(path.join(tmp, 'clip'), { seed: 3 });
  arm = new ClipArm('tiny-clip', await ClipEncoder.load(clip.dir, { threads: 1, batchSize: 8 }));
  mmvpDir = (await writeSyntheticMmvp(path.join(tmp, 'MMVP'), { seed: 4 })).dir;
}, 120_000);

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function scoreAll(items: Item[]): Promise<Map<string, ScoreMatrix>> {
  await arm.prepare(items, loadImage);
  const out = new Map<string, ScoreMatrix>();
  for (const item of items) out.set(item.id, (await arm.score(item, await Promise.all(item.images.map((f) => loadImage(f))))).scores);
  return out;
}

describe('synthetic MMVP with the clip arm', () => {
  it("Questions-clip.csv pairs: 2 images × 2 statements, judged and counted by eval_MMVP's rule", async () => {
    const spec = BenchmarkSpecSchema.parse({
      name: 'mmvp_clip',
      format: 'mmvp-clip',
      annotations: path.join(mmvpDir, 'Questions-clip.csv'),
      data_dir: mmvpDir,
      subset: 'mmvp_clip',
    });
    const { items, failures } = await mmvpClipFamily.load(spec);
    expect(failures).toEqual([]);
    expect(items).toHaveLength(6);
    const scores = await scoreAll(items);
    let pairs = 0;
    let texts = 0;
    for (const item of items) {
      const s = scores.get(item.id) as ScoreMatrix;
      expect(s).toHaveLength(2);
      for (const row of s) {
        expect(row).toHaveLength(2);
        for (const v of row) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-5);
      }
      // eval_clip.py by hand on the real cosines: P(img1 | text t) = softmax(100 · [s[0][t], s[1][t]])[0].
      const gt = item.meta.gt as number[];
      const right = [0, 1].map((t) => (softmaxFirst(s[0]![t]!, s[1]![t]!, 100) > 0.5 ? 0 : 1) === gt[t]);
      texts += right.filter(Boolean).length;
      if (right[0] && right[1]) pairs += 1;
      expect(mmvpClipFamily.judge(item, s).correct).toBe(right[0] && right[1]);
    }
    const m = mmvpClipFamily.metrics(items, scores);
    expect(m.convention).toBe('clip_embeds');
    expect(m.headline.find((h) => h.name === 'pair')).toMatchObject({ correct: pairs, total: 6 });
    expect(m.headline.find((h) => h.name === 'individual')).toMatchObject({ correct: texts, total: 12 });
  });

  it('MMVP questions: one image × two options, scored and counted in pairs', async () => {
    const spec = BenchmarkSpecSchema.parse({
      name: 'mmvp',
      format: 'mmvp',
      annotations: path.join(mmvpDir, 'Questions.csv'),
      data_dir: mmvpDir,
      subset: 'mmvp',
    });
    const { items, failures } = await mmvpFamily.load(spec);
    expect(failures).toEqual([]);
    const scores = await scoreAll(items);
    for (const item of items) expect(scores.get(item.id)?.[0]).toHaveLength(2);
    const m = mmvpFamily.metrics(items, scores);
    expect(m.headline.find((h) => h.name === 'individual')?.total).toBe(12);
    expect(m.headline.find((h) => h.name === 'pair')?.total).toBe(6);
  });
});
