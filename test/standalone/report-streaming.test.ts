import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeExtra } from '../../src/core/probe-features.js';
import { mulberry32 } from '../../src/core/seeded-random.js';
import { writeRunReport } from '../../src/report/run-report.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import type { Sample } from '../../src/store/sample.js';
import { writeGeneratedRun } from '../support/generated-run.js';
import { writeHandMadeHeadlineRun } from '../support/hand-made-headline.js';
import { writeHandMadeRun } from '../support/hand-made-run.js';

/**
 * The report reads one benchmark's samples at a time (report-stream.ts); every file it writes must
 * be byte for byte what the report wrote when it held the whole run in memory. The digests in
 * fixtures/report-streaming-digests.json were written by that earlier report (main at a911257, in memory) on the
 * same runs in the same folder, with the folder written as `<root>`; set PERCEIVE_WRITE_REPORT_DIGESTS=1 to
 * rewrite them (only when a report's output changes on purpose).
 */
const DIGESTS = path.join(import.meta.dirname, 'fixtures', 'report-streaming-digests.json');

let root: string;

/** sha256 of every file the report wrote (thumbnails aside), the temporary root replaced by `<root>`. */
function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (r !== 'thumbs') walk(r);
      } else if (r !== 'samples.jsonl' && r !== 'manifest.json') {
        const text = fs.readFileSync(path.join(dir, r), 'utf8').split(root).join('<root>');
        out[r] = createHash('sha256').update(text).digest('hex');
      }
    }
  };
  walk('');
  return out;
}

/** Probe-arm samples (random 8-dimensional image embeddings) for every clip sample of a run, appended to it. */
function appendProbeArm(run: RunDirectory): void {
  const clip: Sample[] = [];
  run.eachSample((s) => {
    if (s.arm === 'clip') clip.push(s);
  });
  const rand = mulberry32(7);
  for (const s of clip) {
    const v = new Float32Array(8).map(() => rand() - 0.5 + (s.groups.preposition === 'on' ? 0.8 : 0));
    run.appendSample({
      ...s,
      task: `probe-${s.task}`,
      arm: 'probe',
      arm_kind: 'probe',
      status: 'ok',
      scores: [s.options.map(() => 0)],
      prediction: 0,
      correct: true,
      error: null,
      extra: probeExtra([v], { embedding: 'image_embeds', folds: 5, l2: 0.01, seed: 3 }),
    });
  }
}

const runs: Record<string, string> = {};

beforeAll(async () => {
  // A fixed folder: images without a sha256 are named by their path's hash in the explorer's files.
  root = path.join(os.tmpdir(), `perceive-report-streaming-${process.getuid?.() ?? 0}`);
  fs.rmSync(root, { recursive: true, force: true });
  const handMade = await writeHandMadeRun(path.join(root, 'hand-made'), {
    clip: [true, false, true, false, false, false, true, false],
    vlm: [true, true, true, true, false, true, false, false],
  });
  runs['hand-made'] = handMade.dir;
  runs.headline = writeHandMadeHeadlineRun(path.join(root, 'headline')).dir;
  // The headline run with a probe arm's placeholders first in the file, on sugarcrepe.b, whose family
  // has no probe classes: the probe drops them all, so neither the arm nor those first lines count
  // (the streamed report finds the order only after the pass, and makes the pass once more).
  const dropped = writeHandMadeHeadlineRun(path.join(root, 'dropped-probe'), { runId: 'dropped-probe' });
  const probeLines: string[] = [];
  dropped.eachSample((s) => {
    if (s.benchmark === 'sugarcrepe.b' && s.arm === 'clip')
      probeLines.push(
        JSON.stringify({
          ...s,
          task: `probe-${s.task}`,
          arm: 'probe',
          arm_kind: 'probe',
          extra: probeExtra([new Float32Array(4).fill(0.5)], { embedding: 'image_embeds', folds: 5, l2: 0.01, seed: 3 }),
        }),
      );
  });
  const file = dropped.file('samples.jsonl');
  fs.writeFileSync(file, `${probeLines.join('\n')}\n${fs.readFileSync(file, 'utf8')}`);
  runs['dropped-probe'] = dropped.dir;
  // Three benchmarks of 300 items, four arms written arm by arm (each benchmark's samples spread over
  // the file), a probe arm appended: more than 200 items per pair, fewer than 200 disagreements.
  const gen = await writeGeneratedRun(path.join(root, 'gen', 'gen-run'), {
    items: 900,
    arms: 4,
    benchmarks: 3,
    images: 40,
    imageDir: path.join(root, 'images'),
  });
  appendProbeArm(RunDirectory.open(gen.dir));
  runs.generated = gen.dir;
  for (const dir of Object.values(runs)) await writeRunReport(RunDirectory.open(dir));
}, 300_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the streamed report', () => {
  it('writes every file byte for byte as the in-memory report did', () => {
    const now = Object.fromEntries(Object.entries(runs).map(([name, dir]) => [name, digests(dir)]));
    if (process.env.PERCEIVE_WRITE_REPORT_DIGESTS === '1') fs.writeFileSync(DIGESTS, `${JSON.stringify(now, null, 2)}\n`);
    const expected = JSON.parse(fs.readFileSync(DIGESTS, 'utf8')) as Record<string, Record<string, string>>;
    for (const name of Object.keys(runs)) {
      expect(Object.keys(now[name]!).length).toBeGreaterThan(15);
      expect(now[name], name).toEqual(expected[name]);
    }
  });
});

describe('report.md lists a bounded number of items per arm pair', () => {
  it('lists the first 200 disagreements of 1,200 items, says so, and tables/items.csv keeps every item', async () => {
    const gen = await writeGeneratedRun(path.join(root, 'bounded', 'bounded-run'), {
      items: 1200,
      arms: 2,
      benchmarks: 1,
      images: 8,
      imageDir: path.join(root, 'images'),
    });
    await writeRunReport(RunDirectory.open(gen.dir));
    const md = fs.readFileSync(path.join(gen.dir, 'report.md'), 'utf8');
    const section = md.slice(md.indexOf('### whatsup.gen1: vlm.vqascore vs clip'), md.indexOf('## Reference numbers'));
    let disagree = 0;
    for (let i = 0; i < 1200; i++) {
      const [a, c] = [gen.outcome(0, i, 'vlm.vqascore'), gen.outcome(0, i, 'clip')];
      if (a !== 'failed' && c !== 'failed' && a !== c) disagree++;
    }
    expect(disagree).toBeGreaterThan(200);
    expect(section).toContain(
      `(1200 items; the arms disagree on ${disagree}: the first 200 of them by item id are listed; tables/items.csv and the explorer in report.html have all.)`,
    );
    const rows = section.split('\n').filter((l) => l.startsWith('| whatsup.gen1/'));
    expect(rows).toHaveLength(200);
    expect(rows.every((l) => / only (vlm\.vqascore|clip) \|$/.test(l))).toBe(true);
    const items = fs
      .readFileSync(path.join(gen.dir, 'tables', 'items.csv'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(items).toHaveLength(1 + 1200);
  });
});
