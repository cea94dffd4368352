import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexSamples, readBenchmarkSamples } from '../../src/store/sample-index.js';
import type { Sample } from '../../src/store/sample.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-sample-index-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sample(benchmark: string, arm: string, k: number, extra: Record<string, unknown> = {}): Sample {
  return {
    run_id: 'r',
    task: `${arm}-${k}`,
    item: `${benchmark}/${k}`,
    benchmark,
    subset: 's',
    arm,
    model: 'm',
    model_hash: 'h',
    prompt: null,
    images: [{ path: `img/é-${k}.jpg`, sha256: 'x' }],
    options: ['a', 'b'],
    correct_option: 0,
    status: 'ok',
    scores: [[1, 0]],
    prediction: 0,
    correct: true,
    extra,
    error: null,
    latency_ms: 1,
    timings: null,
    groups: {},
    source: { file: 'f', row: k },
    finished_at: 't',
  };
}

function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

describe('the samples.jsonl index', () => {
  it('reads back each benchmark’s samples in file order with their line numbers, and orders benchmarks and arms by first (settled) line', () => {
    const order: Array<[string, string, Record<string, unknown>?]> = [
      ['b', 'probe', { probe_pending: true }],
      ['a', 'clip'],
      ['b', 'clip'],
      ['a', 'vlm'],
      ['b', 'vlm'],
      ['a', 'clip'],
    ];
    const file = write(
      'mixed.jsonl',
      order.map(([b, arm, extra], k) => JSON.stringify(sample(b, arm, k, extra))),
    );
    const settled = (raw: unknown): boolean => (raw as Sample).extra.probe_pending !== true;
    const index = indexSamples(file, settled);
    expect(index.benchmarks.map((b) => [b.benchmark, b.lines])).toEqual([
      ['b', [1, 3, 5]],
      ['a', [2, 4, 6]],
    ]);
    expect([...index.firstLine.arm]).toEqual([
      ['probe', 1],
      ['clip', 2],
      ['vlm', 4],
    ]);
    expect(index.firstSettledLine.benchmark.get('b')).toBe(3);
    expect(index.firstSettledLine.arm.has('probe')).toBe(false);
    const read: Array<[string, number, string]> = [];
    readBenchmarkSamples(file, index.benchmarks[1]!, (s, line) => read.push([s.item, line, s.images[0]!.path]));
    expect(read).toEqual([
      ['a/1', 2, 'img/é-1.jpg'],
      ['a/3', 4, 'img/é-3.jpg'],
      ['a/5', 6, 'img/é-5.jpg'],
    ]);
  });

  it('ignores a torn last line, names a line that is not JSON before the last, and a sample that fails validation', () => {
    const good = JSON.stringify(sample('a', 'clip', 0));
    const torn = write('torn.jsonl', [good, good.slice(0, 40)]);
    expect(indexSamples(torn, () => true).benchmarks[0]!.lines).toEqual([1]);
    const bad = write('bad.jsonl', [good, '{not json', good]);
    expect(() => indexSamples(bad, () => true)).toThrow(/bad\.jsonl: line 2 is not JSON/);
    const invalid = write('invalid.jsonl', [good, JSON.stringify({ ...sample('a', 'clip', 1), correct_option: 'x' })]);
    const index = indexSamples(invalid, () => true);
    expect(() => readBenchmarkSamples(invalid, index.benchmarks[0]!, () => undefined)).toThrow(/invalid\.jsonl: line 2: .*correct_option/);
  });
});
