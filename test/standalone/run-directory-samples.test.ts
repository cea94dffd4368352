import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readReportSamples } from '../../src/analysis/report-samples.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import type { Sample } from '../../src/store/sample.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-samples-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sample = (k: number, arm: string, options: string[]): Sample => ({
  run_id: 'r',
  task: `${arm}${k}`,
  item: `b/${k}`,
  benchmark: 'b',
  subset: 's',
  arm,
  arm_kind: arm,
  model: 'm',
  model_hash: 'h',
  prompt: null,
  images: [{ path: `/i/${k}.jpg`, sha256: 'x' }],
  options,
  correct_option: 0,
  status: 'ok',
  scores: [[1, 0]],
  prediction: 0,
  correct: true,
  extra: { image_pair_cosine: 0.5, raw: 'long model output' },
  error: null,
  latency_ms: 3,
  timings: { calls: 1, promptTokens: 2, cachedTokens: 0, promptMs: 1, predictedMs: 1 },
  groups: { pair: String(k >> 1) },
  source: { file: 'f.json', row: k },
  finished_at: 't',
});

function runWith(name: string, text: string): RunDirectory {
  const run = new RunDirectory(dir, name);
  run.create();
  fs.writeFileSync(run.file('samples.jsonl'), text);
  return run;
}

describe('samples.jsonl read a chunk at a time', () => {
  it('gives every sample back across 1 MiB chunk boundaries, multi-byte characters included', () => {
    // ~2,000 lines of ~1.6 kB with "é" (2 bytes): chunk boundaries fall inside lines and characters.
    const samples = Array.from({ length: 2000 }, (_, k) => sample(k, k % 2 ? 'clip' : 'vlm.mcq', [`é${'é'.repeat(700 + (k % 13))}`, 'b']));
    const run = runWith('big', samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
    expect(fs.statSync(run.file('samples.jsonl')).size).toBeGreaterThan(3 << 20);
    expect(run.readSamples()).toEqual(samples);
  });

  it('ignores a torn last line, and names the line of any other bad one', () => {
    const good = JSON.stringify(sample(0, 'clip', ['a', 'b']));
    expect(runWith('torn', `${good}\n${good.slice(0, 40)}`).readSamples()).toHaveLength(1);
    expect(runWith('torn-nl', `${good}\n${good.slice(0, 40)}\n`).readSamples()).toHaveLength(1);
    expect(() => runWith('bad', `${good}\n${good.slice(0, 40)}\n${good}\n`).readSamples()).toThrow(/line 2 is not JSON/);
    expect(() => runWith('field', `${good}\n${good.replace('"status":"ok"', '"status":"maybe"')}\n`).readSamples()).toThrow(/line 2: field status/);
  });

  it('keeps for the report what it reads, sharing one item between arms', () => {
    const run = runWith(
      'report',
      [sample(0, 'clip', ['a', 'b']), sample(0, 'vlm.mcq', ['a', 'b']), sample(1, 'clip', ['c', 'd'])].map((s) => `${JSON.stringify(s)}\n`).join(''),
    );
    const [a, b, c] = readReportSamples(run);
    expect(a!.extra).toEqual({ image_pair_cosine: 0.5 });
    expect(a!.timings).toBeNull();
    // the option-order views (CircularEval, position bias) read these: they must survive the slimming
    const rotated = {
      ...sample(2, 'vlm.mcq', ['a', 'b']),
      extra: {
        option_order: 'circular',
        option_permutations: [
          [0, 1],
          [1, 0],
        ],
        position_picks: [[0], [0]],
        position_correct: [[0], [1]],
        round_scores: [[[1, 0]], [[0, 1]]],
        raw: 'x',
      },
    };
    const [r] = readReportSamples(runWith('rotated', `${JSON.stringify(rotated)}\n`));
    expect(r!.extra).toEqual({
      option_order: 'circular',
      option_permutations: [
        [0, 1],
        [1, 0],
      ],
      position_picks: [[0], [0]],
      position_correct: [[0], [1]],
      round_scores: [[[1, 0]], [[0, 1]]],
    });
    expect(a!.groups).toBe(b!.groups);
    expect(a!.images).toBe(b!.images);
    expect(a!.options).toBe(b!.options);
    expect(c!.options).toEqual(['c', 'd']);
    expect({ ...b!, extra: {}, timings: null }).toEqual({ ...sample(0, 'vlm.mcq', ['a', 'b']), extra: {}, timings: null });
  });
});
