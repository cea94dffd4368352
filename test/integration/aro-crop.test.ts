import fs from 'node:fs';
import { hostTools } from '../../src/models/host-tools.js';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { cropImage } from '../../src/core/crop.js';
import { loadImage } from '../../src/core/image.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { ClipEncoder } from '../../src/models/clip/clip-encoder.js';

let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-aro-'));
  await writeTinyClip(path.join(dir, 'clip'), { seed: 0 });
  // One 64x48 image: red left half, blue right half; VG rows crop different boxes of it.
  const raw = Buffer.alloc(64 * 48 * 3);
  for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) raw.set(x < 32 ? [220, 30, 30] : [30, 30, 220], (y * 64 + x) * 3);
  fs.mkdirSync(path.join(dir, 'aro', 'images'), { recursive: true });
  await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } })
    .jpeg()
    .toFile(path.join(dir, 'aro', 'images', '1.jpg'));
  const row = (x: number, rel: string) => ({
    image_path: '1.jpg',
    bbox_x: x,
    bbox_y: 4,
    bbox_w: 24,
    bbox_h: 30,
    true_caption: `the cup is ${rel} the table`,
    false_caption: `the table is ${rel} the cup`,
    relation_name: rel,
  });
  fs.writeFileSync(path.join(dir, 'aro', 'visual_genome_relation.json'), JSON.stringify([row(2, 'on'), row(40, 'on'), row(-5, 'under')]));
  fs.writeFileSync(
    path.join(dir, 'exp.yaml'),
    [
      'name: aro-crop',
      'output: ./results',
      'benchmarks:',
      '  - { name: vgr, format: aro-vg, annotations: ./aro/visual_genome_relation.json, data_dir: ./aro, subset: vg_relation }',
      'models:',
      '  clip: { kind: clip, path: ./clip, threads: 1 }',
      'arms:',
      '  - { arm: clip, model: clip }',
    ].join('\n'),
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("ARO VG items are answered on their crop, as the authors' __getitem__ does", () => {
  it('gives each box its own CLIP scores, equal to encoding the PIL-style crop directly', async () => {
    const loaded = loadExperimentConfig(path.join(dir, 'exp.yaml'));
    const result = await runExperiment(loaded, { ...readEnvironment(), threads: 1 }, hostTools({}), { runId: 'crop', queue: 'inline' });
    const samples = result.samples.filter((s) => s.status === 'ok');
    expect(samples).toHaveLength(3);
    const encoder = await ClipEncoder.load(path.join(dir, 'clip'), { threads: 1 });
    try {
      const image = await loadImage(path.join(dir, 'aro', 'images', '1.jpg'));
      const boxes = [
        { x: 2, y: 4, w: 24, h: 30 },
        { x: 40, y: 4, w: 24, h: 30 },
        { x: -5, y: 4, w: 24, h: 30 },
      ];
      for (const [k, box] of boxes.entries()) {
        const s = samples.find((x) => x.source.row === k)!;
        const [v] = await encoder.encodeImages([await cropImage(image, box)]);
        const texts = await encoder.encodeTexts(s.options);
        const expected = texts.map((t) => t.reduce((acc, x, i) => acc + x * v![i]!, 0));
        s.scores![0]!.forEach((score, j) => expect(score).toBeCloseTo(expected[j]!, 5));
      }
      expect(samples[0]!.scores).not.toEqual(samples[1]!.scores);
    } finally {
      await encoder.close();
    }
  });
});
