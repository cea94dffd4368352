import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonFinitePaths, parsePythonJson } from '../../src/benchmarks/shared/python-json.js';
import { externalMetrics } from '../../src/cli/metrics.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/perceive.js');
let root: string;
let annotations: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'metrics-py-'));
  // Questions-clip.csv layout: 3 pairs (qid odd → image 1).
  annotations = path.join(root, 'Questions-clip.csv');
  const rows = ['Question ID,Type,Statement'];
  for (let q = 1; q <= 6; q++) rows.push(`${q},Unknown,statement ${q}`);
  await writeFile(annotations, `${rows.join('\n')}\n`);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('parsePythonJson', () => {
  it("reads json.dumps' NaN, Infinity and -Infinity (the line Python 3.11 prints), not inside strings", () => {
    // python3 -c 'import json; print(json.dumps({"id": "3", "scores": [[float("nan"), float("inf")], [float("-inf"), 0.5]], "note": "NaN in a string"}))'
    const v = parsePythonJson('{"id": "3", "scores": [[NaN, Infinity], [-Infinity, 0.5]], "note": "NaN in a string"}') as {
      scores: number[][];
      note: string;
    };
    expect(v.scores[0]?.[0]).toBeNaN();
    expect(v.scores[0]?.[1]).toBe(Number.POSITIVE_INFINITY);
    expect(v.scores[1]).toEqual([Number.NEGATIVE_INFINITY, 0.5]);
    expect(v.note).toBe('NaN in a string');
    expect(nonFinitePaths(v.scores, 'scores')).toEqual(['scores[0][0] is NaN', 'scores[0][1] is Infinity', 'scores[1][0] is -Infinity']);
    expect(() => parsePythonJson('{"id": nan}')).toThrow(SyntaxError);
  });
});

describe('perceive metrics on Python-written scores', () => {
  it('fails the NaN item with its reason, gives every item its prediction and correctness, and is incomplete', async () => {
    const scores = path.join(root, 'scores.jsonl');
    await writeFile(
      scores,
      [
        '{"id": "0", "scores": [[0.9, 0.1], [0.2, 0.8]]}',
        '{"id": "1", "scores": [[NaN, 0.1], [0.2, 0.8]]}',
        '{"id": "2", "scores": [[0.1, 0.9], [0.8, 0.2]]}',
      ].join('\n'),
    );
    const r = await externalMetrics({ benchmark: 'mmvp_clip', annotations, scores });
    expect(r.scored).toBe(2);
    expect(r.scoreProblems).toEqual([{ line: 2, reason: "id 1: scores[0][0] is NaN (Python's json.dumps writes NaN/Infinity for a non-finite score)" }]);
    expect(r.perItem).toEqual([
      { id: '0', prediction: 0, correct: true, failed: null },
      {
        id: '1',
        prediction: null,
        correct: null,
        failed: `${scores} line 2: id 1: scores[0][0] is NaN (Python's json.dumps writes NaN/Infinity for a non-finite score)`,
      },
      { id: '2', prediction: 1, correct: false, failed: null },
    ]);
    expect(r.complete).toBe(false);
  });

  it('exits 1 when a line is unusable, 0 with --allow-missing; --json carries perItem for a text-to-image family', async () => {
    const scores = path.join(root, 'cli.jsonl');
    await writeFile(scores, '{"id": "0", "scores": [[0.9, 0.1], [0.2, 0.8]]}\n{"id": "1", "scores": [[Infinity, 0.1], [0.2, 0.8]]}\n');
    const args = [BIN, 'metrics', '--benchmark', 'mmvp_clip', '--annotations', annotations, '--scores', scores, '--json'];
    const failed = await run(process.execPath, args).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    expect(failed).toBe(1);
    const { stdout } = await run(process.execPath, [...args, '--allow-missing']);
    const out = JSON.parse(stdout) as { perItem: Array<{ id: string; correct: boolean | null }>; complete: boolean };
    expect(out.complete).toBe(false);
    expect(out.perItem.map((p) => [p.id, p.correct])).toEqual([
      ['0', true],
      ['1', null],
      ['2', null],
    ]);
  }, 60_000);
});
