import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/item.js';
import { ItemPairs } from '../../src/core/item-pairs.js';
import { type ArmIdentity, planBundles } from '../../src/execution/plan.js';
import { ServerLogFile } from '../../src/models/llama/server-log-file.js';
import { badRowLines } from '../../src/run/bad-rows.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-faults-bounds-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What llama-server prints per task at its default verbosity (copied from a tiny-model run's log). */
function taskLines(task: number): string {
  return [
    `0.22.186.230 I slot get_availabl: id  0 | task -1 | selected slot by LRU, t_last = 2282903846`,
    `0.22.186.563 I slot launch_slot_: id  0 | task ${task} | processing task, is_child = 0`,
    `0.22.469.614 W slot   operator(): id  0 | task ${task} | need to evaluate at least 1 token for each active slot (n_past = 101, task.n_tokens() = 101)`,
    `0.22.454.767 I slot print_timing: id  0 | task ${task} | prompt eval time =     268.00 ms /    62 tokens (    4.32 ms per token,   231.35 tokens per second)`,
    `0.22.456.921 I slot print_timing: id  0 | task ${task} |        eval time =       0.00 ms /     1 tokens (    0.00 ms per token,     0.00 tokens per second)`,
    `0.22.457.198 I slot print_timing: id  0 | task ${task} |       total time =     268.00 ms /    63 tokens`,
    `0.22.469.530 I slot      release: id  0 | task ${task} | stop processing: n_tokens = 101, truncated = 0`,
    '',
  ].join('\n');
}

describe('visibility and bounds (issue 14.8)', () => {
  it("llama-server's log file is bounded: per-request lines are left out, errors kept, the file rotates", () => {
    const file = path.join(dir, 'llama-server.log');
    const log = new ServerLogFile(file, 64 << 10);
    log.write('0.01.530.632 I srv  llama_server: model loaded\n0.01.530.670 I srv  llama_server: listening on http://127.0.0.1:1\n');
    let raw = 0;
    for (let t = 0; t < 2500; t++) {
      const chunk = taskLines(t);
      raw += chunk.length;
      // chunks split mid-line, as pipes deliver them
      log.write(chunk.slice(0, 50));
      log.write(chunk.slice(50));
    }
    log.write('0.30.000.000 E slot      error: id  0 | task 2500 | out of memory\n');
    log.end();
    const written = fs.statSync(file).size;
    console.log(
      `[faults 14.8] llama-server log: ${(raw / 2500).toFixed(0)} bytes/task before, ${(written / 2500).toFixed(2)} bytes/task after (2,500 tasks: ${raw} -> ${written} bytes)`,
    );
    expect(written).toBeLessThan(1000);
    expect(fs.readFileSync(file, 'utf8')).toContain('out of memory');
    expect(fs.readFileSync(file, 'utf8')).toContain('model loaded');
    expect(log.skippedLines).toBe(2500 * 7);
    // rotation: a log with nothing but errors stays under twice the cap
    const big = new ServerLogFile(path.join(dir, 'big.log'), 4096);
    for (let i = 0; i < 1000; i++) big.write(`0.00.000.000 E srv  error ${i}: something went wrong here\n`);
    expect(fs.statSync(path.join(dir, 'big.log')).size).toBeLessThanOrEqual(4096);
    expect(fs.existsSync(path.join(dir, 'big.log.1'))).toBe(true);
  });

  it('25,000 bad rows print a summary: counts per reason, the first five and where the list is', () => {
    const failures = Array.from({ length: 25_000 }, (_, i) => ({
      source: { file: 'a.json', row: i },
      reason:
        i % 5 === 0
          ? `a.json row ${i}: field image: climbs out of the data dir with ".."`
          : `a.json row ${i}: field caption_options: expected array, received undefined`,
    }));
    const lines = badRowLines(failures, '/r/bad-rows.jsonl');
    console.log(`[faults 14.8] 25,000 bad rows -> ${lines.length} console lines:\n${lines.join('\n')}`);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[0]).toBe('  25000 bad rows, 2 reasons:');
    expect(lines[1]).toBe('    20000 × field caption_options: expected array, received undefined');
    expect(lines[2]).toBe('    5000 × field image: climbs out of the data dir with ".."');
    expect(lines.at(-1)).toBe('  all 25000 bad rows: /r/bad-rows.jsonl');
    expect(badRowLines(failures.slice(0, 3), 'x')).toHaveLength(3);
  });

  it('planning stays linear when rows repeat (identical rows share a pair key)', () => {
    const arms: ArmIdentity[] = [
      { spec: { arm: 'clip', model: 'clip' } as ArmIdentity['spec'], id: 'clip', model: 'clip', modelHash: 'h', prompt: null, params: null },
    ];
    const imageHashes = new Map([
      ['/d/0.jpg', 'a'.repeat(64)],
      ['/d/1.jpg', 'b'.repeat(64)],
    ]);
    const time = (n: number): number => {
      const items: Item[] = Array.from({ length: n }, (_, i) => ({
        id: `w/${i}`,
        benchmark: 'w',
        subset: 'a',
        images: [`/d/${i % 2}.jpg`],
        options: ['a dog on a table', 'a dog under a table'],
        correct: 0,
        groups: { pair: 'dog_table' },
        source: { file: 'a.json', row: i },
        meta: {},
      }));
      const t = performance.now();
      const bundles = planBundles({ items, arms, imageHashes, dataRoot: '/d', seed: 0 });
      new ItemPairs().add(items);
      expect(bundles.reduce((a, b) => a + b.tasks.length, 0)).toBe(n);
      return performance.now() - t;
    };
    const t10 = time(10_000);
    const t20 = time(20_000);
    console.log(`[faults 14.8] planning identical rows: 10k ${(t10 / 1000).toFixed(2)} s, 20k ${(t20 / 1000).toFixed(2)} s (before: 1k 15.6 s, 2k 97.7 s)`);
    expect(t20).toBeLessThan(10_000);
    // a real pair (two rows) is still one bundle with both images
    const pair: Item[] = [0, 1].map((i) => ({
      id: `w/${i}`,
      benchmark: 'w',
      subset: 'a',
      images: [`/d/${i}.jpg`],
      options: ['x', 'y'],
      correct: 0,
      groups: { pair: 'p' },
      source: { file: 'a.json', row: i },
      meta: {},
    }));
    const bundles = planBundles({ items: pair, arms, imageHashes, dataRoot: '/d', seed: 0 });
    expect(bundles).toHaveLength(1);
    expect(bundles[0]!.images).toHaveLength(2);
  });
});
