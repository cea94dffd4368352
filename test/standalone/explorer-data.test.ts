import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ExplorerDataBuilder, scoreMargin } from '../../src/report/explorer-data.js';
import { thumbnailName, writeThumbnails } from '../../src/report/thumbnails.js';
import type { Sample } from '../../src/store/sample.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-explorer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sample(benchmark: string, item: string, arm: string, o: Partial<Sample> = {}): Sample {
  return {
    run_id: 'r',
    task: `${arm}-${item}`,
    item: `${benchmark}/${item}`,
    benchmark,
    subset: 's',
    arm,
    model: arm,
    model_hash: 'h',
    prompt: null,
    images: [{ path: `/img/${item}.jpg`, sha256: 'x' }],
    options: ['cat on mat', 'mat on cat'],
    correct_option: 0,
    status: 'ok',
    scores: [[0.9, 0.2]],
    prediction: 0,
    correct: true,
    extra: {},
    error: null,
    latency_ms: 1,
    timings: null,
    groups: {},
    source: { file: 'f', row: 0 },
    finished_at: 't',
    ...o,
  };
}

/** Runs the generated data files as the page does and returns what they define. */
function evaluate(files: { index: string; arms: string[]; chunks: string[] }): {
  index: Record<string, unknown>;
  arms: Array<{ outcome: string; prediction: string; margin: string }>;
  chunks: Array<Record<string, unknown>>;
} {
  const chunks: Array<Record<string, unknown>> = [];
  const arms: Array<{ outcome: string; prediction: string; margin: string }> = [];
  const context = {
    window: {} as Record<string, unknown>,
    PERCEIVE_EXPLORER_CHUNK: (k: number, d: Record<string, unknown>) => (chunks[k] = d),
    PERCEIVE_EXPLORER_ARM: (a: number, d: { outcome: string; prediction: string; margin: string }) => (arms[a] = d),
  };
  vm.runInNewContext(files.index, context);
  for (const f of [...files.arms, ...files.chunks]) vm.runInNewContext(f, context);
  return { index: context.window.PERCEIVE_EXPLORER as Record<string, unknown>, arms, chunks };
}

describe('explorer data', () => {
  it('the score margin is the correct option minus the best other, NaN without a row', () => {
    expect(scoreMargin({ scores: [[0.9, 0.2, 0.5]], correct_option: 0 })).toBeCloseTo(0.4, 12);
    expect(scoreMargin({ scores: [[0.1, 0.7, 0.5]], correct_option: 2 })).toBeCloseTo(-0.2, 12);
    expect(scoreMargin({ scores: null, correct_option: 0 })).toBeNaN();
    expect(scoreMargin({ scores: [[1]], correct_option: 0 })).toBeNaN();
  });

  it('packs outcomes, predictions and margins per arm in numeric item order, details per chunk', () => {
    const b = new ExplorerDataBuilder();
    // Items 10, 2, 1 of benchmark a (arrive out of order), item 0 of benchmark b; three arms.
    for (const id of ['10', '2', '1']) {
      b.add(sample('a', id, 'clip', id === '2' ? { correct: false, prediction: 1, scores: [[0.3, 0.6]] } : {}));
      b.add(
        sample(
          'a',
          id,
          'vlm',
          id === '10'
            ? { status: 'failed', correct: null, prediction: null, scores: null, error: { code: 'server-error', message: 'boom' } }
            : { scores: [[0.5, 0.25]] },
        ),
      );
    }
    b.add(sample('b', '0', 'clip', { options: ['x', 'y', 'z'], correct_option: 2, scores: [[0.1, 0.2, 0.3]], prediction: 2 }));
    b.add(sample('a', '2', 'other'));
    const files = b.build(
      [
        { arm: 'vlm', baseline: 'clip' },
        { arm: 'absent-arm', baseline: 'clip' },
      ],
      new Set([thumbnailName({ path: '/img/1.jpg', sha256: 'x' })]),
    );
    expect(files.items).toBe(4);
    const { index, arms, chunks } = evaluate(files);
    expect(index.n).toBe(4);
    expect(index.benchmarks).toEqual([
      ['a', 0, 3],
      ['b', 3, 4],
    ]);
    expect(index.arms).toEqual(['clip', 'vlm', 'other']);
    // A pair whose arm never appears is left out.
    expect(index.pairs).toEqual([[1, 0]]);
    expect(arms.map((a) => a.outcome)).toEqual(['rwrr', 'rrf.', '.r..']);
    expect(arms.map((a) => a.prediction)).toEqual(['0102', '00..', '.0..']);
    const margins = arms.map((a) => a.margin).map((m) => [...new Float32Array(new Uint8Array(Buffer.from(m, 'base64')).buffer)]);
    expect(margins[0]![0]).toBeCloseTo(0.7, 6);
    expect(margins[0]![1]).toBeCloseTo(-0.3, 6);
    expect(margins[0]![3]).toBeCloseTo(0.1, 6);
    expect(margins[1]![0]).toBeCloseTo(0.25, 6);
    expect(margins[1]![2]).toBeNaN();
    expect(margins[2]![0]).toBeNaN();
    expect(chunks).toHaveLength(1);
    const c = chunks[0] as { s: string[]; rows: unknown[][]; errors: Record<string, Record<string, string>> };
    expect(c.s).toEqual(['cat on mat', 'mat on cat', 'x', 'y', 'z']);
    expect(c.rows.map((r) => r[0])).toEqual(['1', '2', '10', '0']);
    // Item 1 has its thumbnail; the others show their file's name.
    expect(c.rows.map((r) => r[1])).toEqual([[thumbnailName({ path: '/img/1.jpg', sha256: 'x' }).slice(0, -4)], ['!2.jpg'], ['!10.jpg'], ['!0.jpg']]);
    expect(c.rows.map((r) => r[2])).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
      [2, 3, 4],
    ]);
    expect(c.rows.map((r) => r[3])).toEqual([0, 0, 0, 2]);
    expect(c.errors).toEqual({ 2: { 1: 'server-error: boom' } });
  });

  it('splits items into chunks of 256', () => {
    const b = new ExplorerDataBuilder();
    for (let i = 0; i < 600; i++) b.add(sample('a', String(i), 'clip'));
    const { index, chunks } = evaluate(b.build([], new Set()));
    expect(index.chunk).toBe(256);
    expect(chunks.map((c) => (c.rows as unknown[]).length)).toEqual([256, 256, 88]);
    expect((chunks[2]!.rows as unknown[][])[0]![0]).toBe('512');
  });
});

describe('thumbnails', () => {
  it('writes one small JPEG per distinct image, once, and counts unreadable images', async () => {
    const a = path.join(dir, 'a.png');
    const big = path.join(dir, 'big.jpg');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 10, b: 10 } } })
      .png()
      .toFile(a);
    await sharp({ create: { width: 640, height: 320, channels: 3, background: { r: 10, g: 10, b: 200 } } })
      .jpeg()
      .toFile(big);
    const images = [
      { path: a, sha256: 'a'.repeat(64) },
      { path: big, sha256: 'B'.repeat(64) },
      { path: a, sha256: 'a'.repeat(64) },
      { path: path.join(dir, 'missing.jpg'), sha256: 'c'.repeat(64) },
    ];
    const out = path.join(dir, 'report');
    const first = await writeThumbnails(out, images, { concurrency: 2 });
    expect([first.written, first.present, first.unreadable]).toEqual([2, 0, 1]);
    expect(fs.readdirSync(path.join(out, 'thumbs')).sort()).toEqual([`${'a'.repeat(16)}.jpg`, `${'b'.repeat(16)}.jpg`]);
    // Never enlarged; the longer side at most 96 px.
    const small = await sharp(path.join(out, 'thumbs', `${'a'.repeat(16)}.jpg`)).metadata();
    expect([small.width, small.height, small.format]).toEqual([40, 30, 'jpeg']);
    const shrunk = await sharp(path.join(out, 'thumbs', `${'b'.repeat(16)}.jpg`)).metadata();
    expect([shrunk.width, shrunk.height]).toEqual([96, 48]);
    const second = await writeThumbnails(out, images);
    expect([second.written, second.present, second.unreadable]).toEqual([0, 2, 1]);
    expect([...second.available].sort()).toEqual([`${'a'.repeat(16)}.jpg`, `${'b'.repeat(16)}.jpg`]);
    // Without a usable sha256 the name comes from the path.
    expect(thumbnailName({ path: a, sha256: 'x' })).toMatch(/^[0-9a-f]{16}\.jpg$/);
    expect(thumbnailName({ path: a, sha256: 'x' })).not.toBe(thumbnailName({ path: big, sha256: 'x' }));
  });
});
