/**
 * The report at scale: builds a run directory of N generated samples without any model (What'sUp
 * Controlled-A-style sets of 4 items, one small distinct JPEG per item, several arms: `clip` as the
 * baseline, `vlm.vqascore`, `vlm.mcq`, two `vlm2vec` prompt variants; about 1 % failed samples, CLIP
 * image-pair cosines) and times `perceive report RUN_DIR` in a child process: wall time from spawn to
 * exit and the child's peak RSS (`process.resourceUsage().maxRSS`, printed by a preload at exit).
 * Each size is measured `--repeats` times; the best run counts and the spread is printed beside it
 * (the first repeat writes the explorer's thumbnails into the run's thumbs/, one per image; later
 * repeats find them present, as every report after a run's first does).
 * The first size is measured once more with image paths that do not exist: the report without
 * thumbnails (sharp, about 4 ms of CPU per 256 px image), i.e. the analysis and rendering alone.
 * Target (issue 16): at 8,000 samples ≤ 5 s and ≤ 400 MB.
 *
 * `--suite ITEMS`: instead, one report (measured once) of a whole suite's shape, `ITEMS` items over
 * `--benchmarks` (10) What'sUp-style benchmarks answered by `--suite-arms` (10) arms, written arm by
 * arm (test/support/generated-run.ts; item i shows image i mod `--images`, 2,000 distinct 64 px
 * JPEGs): wall, CPU, peak RSS and the sizes of report.md, report.html, report-data/ and
 * tables/items.csv. Target: peak RSS bounded by the largest benchmark (well under 1 GB at 100,000
 * items × 10 arms), report.md a few MB at most.
 *
 *   npx tsx bench/report-scale.ts [--samples 8000,32000] [--repeats 3] [--arms 1..5] [--keep] [--small]
 *   npx tsx bench/report-scale.ts --suite 100000 [--benchmarks 10] [--suite-arms 10] [--images 2000] [--keep]
 *
 * The last line is the figure: the report's time and peak RSS at 8,000 samples (or the first size;
 * with `--suite`, at the suite's size).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../src/core/seeded-random.js';
import type { Sample } from '../src/store/sample.js';
import { argValue, benchCacheDir, isSmall, seconds, tempDir } from './support/bench-setup.js';
import { spreadText } from './support/spread.js';
import { timeReport } from './support/report-child.js';
import { writeGeneratedRun } from '../test/support/generated-run.js';

const SLOTS = ['left', 'right', 'on', 'under'] as const;
const RELATION: Record<(typeof SLOTS)[number], string> = { left: 'left_of', right: 'right_of', on: 'on', under: 'under' };
/** Arm id, arm kind, model, probability of a right answer. */
const ALL_ARMS: ReadonlyArray<readonly [string, string, string, number]> = [
  ['clip', 'clip', 'clip', 0.45],
  ['vlm.vqascore', 'vlm.vqascore', 'llava', 0.7],
  ['vlm.mcq', 'vlm.mcq', 'llava', 0.6],
  ['vlm2vec.question', 'vlm2vec.question', 'vlm2vec', 0.55],
  ['vlm2vec.plain', 'vlm2vec.plain', 'vlm2vec', 0.5],
];
/** `--arms K`: the first K of them (1: the CLIP arm alone, as in issue 16's first measurement). */
const ARMS = ALL_ARMS.slice(0, Number(argValue('arms', String(ALL_ARMS.length))));

/** One small distinct JPEG per item, cached under the bench cache dir (written once). */
async function images(count: number): Promise<string[]> {
  const dir = path.join(benchCacheDir(), 'report-scale', 'images-256');
  fs.mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => path.join(dir, `obj${Math.floor(i / 4)}_${RELATION[SLOTS[i % 4]!]}_thing${Math.floor(i / 4)}.jpeg`));
  const todo = files.map((f, i) => [f, i] as const).filter(([f]) => !fs.existsSync(f));
  for (let k = 0; k < todo.length; k += 64) {
    await Promise.all(
      todo.slice(k, k + 64).map(async ([file, i]) => {
        const c = { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 173) % 256 };
        // 256 × 256, the size of the project's synthetic What'sUp images.
        const buf = await sharp({ create: { width: 256, height: 256, channels: 3, background: c } })
          .jpeg({ quality: 80 })
          .toBuffer();
        fs.writeFileSync(`${file}.tmp`, buf);
        fs.renameSync(`${file}.tmp`, file);
      }),
    );
  }
  return files;
}

/** A run directory of `samples` samples (items × arms) written by hand. */
async function buildRun(samples: number, withImages = true): Promise<string> {
  const itemCount = Math.max(4, Math.floor(samples / ARMS.length / 4) * 4);
  // Without images: paths that do not exist, so the HTML's thumbnails cost nothing (the analysis alone).
  const files = withImages ? await images(itemCount) : Array.from({ length: itemCount }, (_, i) => `/nonexistent/report-scale/${i}.jpeg`);
  const dir = path.join(tempDir(`report-scale-${samples}`), `scale-${samples}`);
  fs.mkdirSync(dir, { recursive: true });
  const benchmark = 'whatsup.scale';
  fs.writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      run_id: `scale-${samples}`,
      created_at: new Date().toISOString(),
      perceive: { version: '0.0.0', commit: null },
      llama_cpp: null,
      models: [
        { name: 'clip', kind: 'clip', files: ['/m/clip'], hash: 'c'.repeat(64), fixture: true },
        { name: 'llava', kind: 'llama', files: ['/m/a.gguf', '/m/b.gguf'], hash: 'l'.repeat(64), fixture: true },
        { name: 'vlm2vec', kind: 'llama', files: ['/m/c.gguf', '/m/d.gguf'], hash: 'v'.repeat(64), fixture: true },
      ],
      arms: ARMS.map(([arm, , model]) => ({ arm, model, prompt: null })),
      datasets: [
        { name: benchmark, format: 'whatsup-controlled', annotations: '/data/controlled_images_dataset.json', annotations_sha256: null, items: itemCount },
      ],
      config: { baseline: 'clip', benchmarks: [{ name: benchmark, format: 'whatsup-controlled', subset: 'controlled_a' }] },
    }),
  );
  const rand = mulberry32(samples);
  const fd = fs.openSync(path.join(dir, 'samples.jsonl'), 'w');
  let chunk = '';
  for (const [arm, kind, model, pRight] of ARMS) {
    for (let i = 0; i < itemCount; i++) {
      const k = Math.floor(i / 4);
      const slot = SLOTS[i % 4]!;
      const set = `obj${k}|thing${k}`;
      const pair = `${set}|${slot === 'left' || slot === 'right' ? 'left-right' : 'on-under'}`;
      const failed = rand() < 0.01;
      const right = rand() < pRight;
      const others = [rand() * 0.8, rand() * 0.8, rand() * 0.8];
      const row = right ? [0.9, ...others] : [rand() * 0.5, 0.95, others[1]!, others[2]!];
      const sample: Sample & { arm_kind: string } = {
        run_id: `scale-${samples}`,
        task: `${arm}-${i}`,
        item: `${benchmark}/${i}`,
        benchmark,
        subset: 'controlled_a',
        arm,
        arm_kind: kind,
        model,
        model_hash: model[0]!.repeat(64),
        prompt: null,
        images: [{ path: files[i]!, sha256: 'x'.repeat(64) }],
        options: [`obj ${k} ${RELATION[slot].replace('_', ' ')} thing ${k}`, 'a', 'b', 'c'],
        correct_option: 0,
        status: failed ? 'failed' : 'ok',
        scores: failed ? null : [row],
        prediction: failed ? null : right ? 0 : 1,
        correct: failed ? null : right,
        extra: arm === 'clip' && !failed ? { image_pair_cosine: 0.85 + (0.15 * ((k * 7919) % 1000)) / 1000 } : {},
        error: failed ? { code: 'server-error', message: 'generated failure' } : null,
        latency_ms: 12,
        timings: null,
        groups: { variant: 'A', preposition: RELATION[slot], set, slot, pair, convention: 'whatsup_vlms' },
        source: { file: '/data/controlled_images_dataset.json', row: i },
        finished_at: '2026-11-30T00:00:00.000Z',
      };
      chunk += `${JSON.stringify(sample)}\n`;
      if (chunk.length > 1 << 20) {
        fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return dir;
}

/** Bytes under a folder (recursively). */
function folderBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    n += e.isDirectory() ? folderBytes(f) : fs.statSync(f).size;
  }
  return n;
}

/** `--suite ITEMS`: one report of a suite-shaped run (many benchmarks, 10 arms), measured once. */
async function suite(items: number): Promise<void> {
  const benchmarks = Number(argValue('benchmarks', '10'));
  const arms = Number(argValue('suite-arms', '10'));
  const root = tempDir(`report-suite-${items}`);
  const t0 = performance.now();
  const gen = await writeGeneratedRun(path.join(root, `suite-${items}`), {
    items,
    arms,
    benchmarks,
    images: Number(argValue('images', '2000')),
    imageDir: path.join(benchCacheDir(), 'report-scale', 'images-64'),
  });
  const samplesBytes = fs.statSync(path.join(gen.dir, 'samples.jsonl')).size;
  process.stdout.write(
    `generated ${(items * arms).toLocaleString('en')} samples (${items.toLocaleString('en')} items × ${arms} arms over ${benchmarks} benchmarks, samples.jsonl ${(samplesBytes / 1e6).toFixed(0)} MB) in ${seconds(performance.now() - t0)}\n`,
  );
  const r = await timeReport(gen.dir);
  const size = (f: string): string => `${(fs.statSync(path.join(gen.dir, f)).size / 1e6).toFixed(2)} MB`;
  process.stdout.write(
    `sizes: report.md ${size('report.md')}, report.html ${size('report.html')}, report-data/ ${(folderBytes(path.join(gen.dir, 'report-data')) / 1e6).toFixed(1)} MB, ` +
      `tables/items.csv ${size('tables/items.csv')}, tables/failed.csv ${size('tables/failed.csv')}, summary.json ${size('summary.json')}\n`,
  );
  if (process.argv.includes('--keep')) process.stdout.write(`kept ${gen.dir}\n`);
  else fs.rmSync(root, { recursive: true, force: true });
  process.stdout.write(
    `report of ${(items * arms).toLocaleString('en')} samples (${benchmarks} benchmarks): ${seconds(r.wallMs)} wall, CPU ${seconds(r.cpuMs)}, ${(r.peakKb / 1024).toFixed(0)} MB peak RSS; load average ${os.loadavg()[0]!.toFixed(1)}\n`,
  );
}

async function main(): Promise<void> {
  const suiteItems = argValue('suite', '');
  if (suiteItems) return suite(Number(suiteItems));
  const small = isSmall();
  const sizes = (small ? '800' : argValue('samples', '8000,32000')).split(',').map(Number);
  const repeats = Number(argValue('repeats', small ? '1' : '3'));
  type Run = { wallMs: number; peakKb: number; cpuMs: number };
  const results: Array<{ samples: number; best: Run; worst: Run }> = [];
  for (const samples of sizes) {
    const dir = await buildRun(samples);
    const runs: Run[] = [];
    for (let r = 0; r < repeats; r++) runs.push(await timeReport(dir));
    const best = runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const worst = runs.reduce((a, b) => (b.wallMs > a.wallMs ? b : a));
    results.push({ samples, best, worst });
    const html = fs.statSync(path.join(dir, 'report.html')).size;
    process.stdout.write(
      `${samples} samples: report ${seconds(best.wallMs)} (wall in s: ${spreadText(
        runs.map((x) => x.wallMs / 1000),
        2,
      )}), peak RSS ${(best.peakKb / 1024).toFixed(0)} MB` +
        ` (max ${(Math.max(...runs.map((x) => x.peakKb)) / 1024).toFixed(0)} MB), CPU ${seconds(best.cpuMs)}, ${((best.wallMs / samples) * 1000).toFixed(0)} µs per sample,` +
        ` report.html ${(html / 1e6).toFixed(1)} MB; load average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
    if (process.argv.includes('--keep')) process.stdout.write(`kept ${dir}\n`);
    else fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    if (samples === sizes[0]) {
      // The same run with no image files: what the thumbnails of the win tables cost, apart.
      const bare = await buildRun(samples, false);
      const r = (await Promise.all([timeReport(bare)]))[0]!;
      process.stdout.write(
        `${samples} samples, no image files (no thumbnails): report ${seconds(r.wallMs)}, CPU ${seconds(r.cpuMs)}, peak RSS ${(r.peakKb / 1024).toFixed(0)} MB\n`,
      );
      fs.rmSync(path.dirname(bare), { recursive: true, force: true });
    }
  }
  const first = results.find((r) => r.samples === 8000) ?? results[0]!;
  const mb = Math.max(first.best.peakKb, first.worst.peakKb) / 1024;
  const met = first.best.wallMs <= 5000 && mb <= 400;
  process.stdout.write(
    `report at ${first.samples.toLocaleString('en')} samples: ${seconds(first.best.wallMs)} (CPU ${seconds(first.best.cpuMs)}), ${mb.toFixed(0)} MB peak RSS (target ≤ 5 s and ≤ 400 MB at 8,000: ${met ? 'met' : 'NOT met'})\n`,
  );
}

await main();
