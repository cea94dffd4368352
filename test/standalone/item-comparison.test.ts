import { describe, expect, it } from 'vitest';
import { compareItems } from '../../src/analysis/item-comparison.js';
import type { Sample } from '../../src/store/sample.js';

function sample(item: string, arm: string, correct: boolean | null): Sample {
  return {
    run_id: 'r',
    task: `${item}-${arm}`,
    item,
    benchmark: 'b',
    subset: 's',
    arm,
    model: arm,
    model_hash: 'h',
    prompt: null,
    images: [{ path: `/x/${item}.jpeg`, sha256: 'i' }],
    options: ['A', 'B'],
    correct_option: 0,
    status: correct === null ? 'failed' : 'ok',
    scores: correct === null ? null : [[correct ? 1 : 0, 0.5]],
    prediction: correct === null ? null : correct ? 0 : 1,
    correct,
    extra: {},
    error: correct === null ? { code: 'bad-image', message: 'corrupt' } : null,
    latency_ms: 1,
    timings: null,
    groups: {},
    source: { file: 'f', row: 0 },
    finished_at: '',
  };
}

describe('per-item 2x2 against the baseline', () => {
  it('counts both / only arm / only baseline / neither and excludes failures', () => {
    const vlm = [true, true, false, false, true, null].map((c, i) => sample(`b/${i}`, 'vlm.vqascore', c));
    const clip = [true, false, true, false, false, true].map((c, i) => sample(`b/${i}`, 'clip', c));
    const [c] = compareItems([...vlm, ...clip], 'clip');
    expect(c).toMatchObject({ arm: 'vlm.vqascore', baseline: 'clip', n: 5, both: 1, onlyArm: 2, onlyBaseline: 1, neither: 1, excluded: 1 });
    expect(c!.armWins).toEqual(['b/1', 'b/4']);
    expect(c!.baselineWins).toEqual(['b/2']);
  });
});
