/**
 * report.html at scale: a run directory of generated samples (no model; What'sUp-style items over
 * several benchmarks, `clip` the baseline and `--arms` − 1 other arms, about 1 % failed; item i shows
 * image i mod `--images`, distinct 256 px JPEGs), its report written by `perceive report DIR` in a
 * child process (twice: the first writes the thumbnails, the second finds them present), then
 * report.html opened from disk in headless Chromium `--repeats` times, each in a fresh browser
 * context: the time to the explorer's first page rendered (`PERCEIVE_EXPLORER_FIRST_PAGE_MS`,
 * performance.now() from navigation start) and the time of a filter change and of a sort by margin.
 * Sizes: report.html, report-data/index.js (what the page loads to open), the detail files
 * (loaded a page at a time) and thumbs/. Separately, the thumbnails' cost per image (writeThumbnails
 * on the distinct images into a fresh folder), projected to one distinct image per item.
 *
 *   npx tsx bench/report-html.ts [--items 100000] [--arms 10] [--benchmarks 10] [--images 2000] [--repeats 3] [--keep] [--small]
 *                                [--dir RUN_DIR] [--reports 2]
 *
 * `--dir`: this run directory (kept; generated there when it has no samples.jsonl); `--reports 0`
 * measures the report.html already in it (e.g. from an earlier `--keep`) without running the report.
 *
 * Targets (issue 16): at 100,000 items × 10 arms, the page with its data ≤ 20 MB and its first page
 * in ≤ 3 s. The last line prints both. Needs Debian's chromium (`CHROMIUM_BIN` to use another).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { writeThumbnails } from '../src/report/thumbnails.js';
import { writeGeneratedImages, writeGeneratedRun } from '../test/support/generated-run.js';
import { argValue, benchCacheDir, isSmall, seconds, tempDir } from './support/bench-setup.js';
import { timeReport } from './support/report-child.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const MB = 1e6;

const size = (file: string): number => fs.statSync(file).size;
const folderSize = (dir: string): { bytes: number; files: number } => {
  const files = fs.readdirSync(dir);
  return { bytes: files.reduce((t, f) => t + size(path.join(dir, f)), 0), files: files.length };
};
const spread = (xs: number[]): string => `${seconds(Math.min(...xs))} (spread ${seconds(Math.min(...xs))}–${seconds(Math.max(...xs))} over ${xs.length})`;

async function main(): Promise<void> {
  const small = isSmall();
  const items = Number(argValue('items', small ? '2000' : '100000'));
  const arms = Number(argValue('arms', small ? '4' : '10'));
  const benchmarks = Number(argValue('benchmarks', small ? '2' : '10'));
  const imageCount = Number(argValue('images', small ? '200' : '2000'));
  const repeats = Number(argValue('repeats', small ? '1' : '3'));
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium or set CHROMIUM_BIN`);
  const imageDir = path.join(benchCacheDir(), 'report-html', 'images-256');
  const given = argValue('dir', '');
  const work = given ? path.dirname(path.resolve(given)) : tempDir('report-html');
  const dir = given ? path.resolve(given) : path.join(work, `explorer-${items}x${arms}`);
  const reports = Number(argValue('reports', '2'));
  process.stdout.write(`load average at start ${os.loadavg()[0]!.toFixed(1)}\n`);

  let t = performance.now();
  const reuse = fs.existsSync(path.join(dir, 'samples.jsonl'));
  if (!reuse) await writeGeneratedRun(dir, { items, arms, benchmarks, images: imageCount, imageDir, imageSize: 256 });
  process.stdout.write(
    `${reuse ? 'reused' : 'generated'} ${items.toLocaleString('en')} items × ${arms} arms (${(items * arms).toLocaleString('en')} samples, ${(size(path.join(dir, 'samples.jsonl')) / MB).toFixed(0)} MB samples.jsonl) in ${seconds(performance.now() - t)}\n`,
  );

  const runs: Array<{ wallMs: number; peakKb: number; cpuMs: number }> = [];
  for (let r = 0; r < reports; r++) runs.push(await timeReport(dir));
  if (runs.length > 0)
    process.stdout.write(
      `perceive report: ${runs.map((x, k) => `${seconds(x.wallMs)} (CPU ${seconds(x.cpuMs)}${k === 0 ? ', writing the thumbnails' : ''})`).join(', then ')}; peak RSS ${(Math.max(...runs.map((x) => x.peakKb)) / 1024).toFixed(0)} MB\n`,
    );

  // The thumbnails' own cost, apart: every distinct image into a fresh folder, sharp bounded.
  const images = await writeGeneratedImages(imageDir, imageCount, 256);
  t = performance.now();
  const thumbsOnly = tempDir('report-html-thumbs');
  const tally = await writeThumbnails(thumbsOnly, images);
  fs.rmSync(thumbsOnly, { recursive: true, force: true });
  const perImage = (performance.now() - t) / Math.max(1, tally.written);
  process.stdout.write(
    `thumbnails: ${tally.written} written in ${seconds(perImage * tally.written)}, ${perImage.toFixed(2)} ms per 256 px image; one per item at ${items.toLocaleString('en')} items: ${seconds(perImage * items)} once (then skipped)\n`,
  );

  const html = size(path.join(dir, 'report.html'));
  const index = size(path.join(dir, 'report-data', 'index.js'));
  const data = folderSize(path.join(dir, 'report-data'));
  const thumbs = folderSize(path.join(dir, 'thumbs'));
  const armFiles = fs.readdirSync(path.join(dir, 'report-data')).filter((f) => f.startsWith('arm-'));
  const armBytes = armFiles.reduce((t, f) => t + size(path.join(dir, 'report-data', f)), 0);
  const details = data.bytes - index - armBytes;
  const firstDetail = size(path.join(dir, 'report-data', 'items-0.js'));
  // What opening loads: the page, the index, the first pair's two arm files, one detail file.
  const opening = html + index + size(path.join(dir, 'report-data', 'arm-0.js')) + size(path.join(dir, 'report-data', 'arm-1.js')) + firstDetail;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  const firstPage: number[] = [];
  const opened: number[] = [];
  const filter: number[] = [];
  const sort: number[] = [];
  let count = '';
  try {
    for (let r = 0; r < repeats; r++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const start = performance.now();
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      await page.waitForSelector('#explorer[data-state="ready"]', { timeout: 120_000 });
      opened.push(performance.now() - start);
      firstPage.push(await page.evaluate(() => (window as unknown as { PERCEIVE_EXPLORER_FIRST_PAGE_MS: number }).PERCEIVE_EXPLORER_FIRST_PAGE_MS));
      // A filter change (the last arm pair, only the arm right) and a sort by margin, each to its page rendered.
      const timed = async (act: () => Promise<unknown>): Promise<number> => {
        const before = Number(await page.locator('#explorer').getAttribute('data-renders'));
        const t0 = await page.evaluate(() => performance.now());
        await act();
        await page.waitForFunction((n) => Number(document.getElementById('explorer')!.dataset.renders) > n, before);
        return (await page.evaluate(() => performance.now())) - t0;
      };
      const pairs = await page.locator('#ex-pair option').count();
      filter.push((await timed(() => page.selectOption('#ex-pair', String(pairs - 1)))) + (await timed(() => page.selectOption('#ex-cell', 'arm'))));
      sort.push(await timed(() => page.selectOption('#ex-sort', 'arm-desc')));
      count = (await page.locator('#ex-status').textContent()) ?? '';
      if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(
    `report.html ${(html / MB).toFixed(2)} MB, report-data/index.js ${(index / MB).toFixed(3)} MB, ${armFiles.length} arm files ${(armBytes / MB).toFixed(1)} MB (two loaded per arm pair),` +
      ` ${data.files - 1 - armFiles.length} detail files ${(details / MB).toFixed(1)} MB (${(firstDetail / MB).toFixed(2)} MB each, loaded a page at a time): opening loads ${(opening / MB).toFixed(1)} MB; thumbs/ ${thumbs.files} files ${(thumbs.bytes / MB).toFixed(1)} MB\n`,
  );
  process.stdout.write(
    `headless Chromium: first page rendered ${spread(firstPage)} after navigation start (goto → ready ${spread(opened)}); a filter change ${spread(filter)}, a sort by margin ${spread(sort)} ("${count}"); load average ${os.loadavg()[0]!.toFixed(1)}\n`,
  );
  if (process.argv.includes('--keep') || given) process.stdout.write(`kept ${dir}\n`);
  else fs.rmSync(work, { recursive: true, force: true });
  const pageMb = (html + data.bytes) / MB;
  const best = Math.min(...firstPage);
  const met = pageMb <= 20 && best <= 3000;
  process.stdout.write(
    `report.html at ${items.toLocaleString('en')} items × ${arms} arms: ${pageMb.toFixed(1)} MB with all its data (opening loads ${(opening / MB).toFixed(1)} MB), first page in ${seconds(best)} (target ≤ 20 MB and ≤ 3 s: ${met ? 'met' : 'NOT met'})\n`,
  );
}

await main();
