import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunReport } from '../../src/report/run-report.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { type GeneratedRun, writeGeneratedRun } from '../support/generated-run.js';
import { writeHandMadeRun } from '../support/hand-made-run.js';

/** Debian's chromium (apt-get install chromium); .ci/run installs it. */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
// The flags the env notes give for headless Chromium on these machines (no network, root).
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let dir: string;
let browser: Browser;
let htmlFile: string;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_BIN`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-html-'));
  const run = await writeHandMadeRun(
    dir,
    { clip: [true, false, true, false, false, false, true, false], vlm: [true, true, true, true, false, true, false, false] },
    { pairCosines: [0.996, 0.93, 0.97, 0.991] },
  );
  htmlFile = (await writeRunReport(run)).htmlFile;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('report.html in headless Chromium', () => {
  it('renders its charts, tables and thumbnails with no console errors and no network', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(`file://${htmlFile}`);
    await page.waitForLoadState('load');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    // One accuracy chart per benchmark, the differences forest plot, the cosine-bin chart.
    expect(await page.locator('[data-chart="accuracy"] svg').count()).toBe(1);
    expect(await page.locator('[data-chart="differences"] svg').count()).toBe(1);
    expect(await page.locator('[data-chart="cosine-bins"] svg').count()).toBe(1);
    expect(await page.locator('svg .mark-rect path, svg .mark-rect rect').count()).toBeGreaterThan(0);
    for (const id of ['run', 'accuracy', 'items', 'ablation', 'agreement', 'references']) expect(await page.locator(`h2#${id}`).count()).toBe(1);
    expect(await page.locator('table').count()).toBeGreaterThanOrEqual(6);
    // The explorer lists the 8 items; their thumbnails are files beside the report, decoded by the browser once in view.
    await page.waitForSelector('#explorer[data-state="ready"]');
    expect(await page.locator('#ex-rows tr').count()).toBe(8);
    await page.locator('#ex-rows tr').last().scrollIntoViewIfNeeded();
    await page.waitForFunction(() => [...document.querySelectorAll('#ex-rows img')].every((i) => (i as HTMLImageElement).complete));
    const widths = await page.locator('#ex-rows img.thumb').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(widths).toHaveLength(8);
    expect(widths.every((w) => w > 0)).toBe(true);
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text a reader sees, not the DOM's raw text
    const text = await page.locator('#items + p + table').innerText();
    expect(text).toContain('0.625');
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
    expect(fs.statSync(path.join(dir, 'report.png')).size).toBeGreaterThan(10_000);
    await page.close();
  });
});

describe('the per-item explorer on 2,000 generated items × 4 arms (8,000 samples)', () => {
  let gen: GeneratedRun;
  let html: string;
  let firstReport: Awaited<ReturnType<typeof writeRunReport>>;

  beforeAll(async () => {
    gen = await writeGeneratedRun(path.join(dir, 'generated', 'gen-run'), {
      items: 2000,
      arms: 4,
      benchmarks: 2,
      images: 600,
      imageDir: path.join(dir, 'generated-images'),
    });
    firstReport = await writeRunReport(RunDirectory.open(gen.dir));
    html = firstReport.htmlFile;
  });

  /** How many items of benchmark `b` (or all) fall in a cell of arm vs clip, from the generator's own outcomes. */
  function expected(b: number | null, arm: string, cell: 'both' | 'arm' | 'baseline' | 'neither' | 'excluded'): number {
    let n = 0;
    for (const [k] of gen.benchmarks.entries()) {
      if (b !== null && k !== b) continue;
      for (let i = 0; i < 1000; i++) {
        const x = gen.outcome(k, i, arm);
        const y = gen.outcome(k, i, 'clip');
        const c = x === 'failed' || y === 'failed' ? 'excluded' : x === 'right' ? (y === 'right' ? 'both' : 'arm') : y === 'right' ? 'baseline' : 'neither';
        if (c === cell) n++;
      }
    }
    return n;
  }

  /** Does `act` and waits until the explorer has rendered the result (rows load their details asynchronously). */
  async function rendered(page: import('playwright-core').Page, act: () => Promise<unknown>): Promise<void> {
    const before = Number(await page.locator('#explorer').getAttribute('data-renders'));
    await act();
    await page.waitForFunction((n) => Number(document.getElementById('explorer')!.dataset.renders) > n, before);
  }

  const status = async (page: import('playwright-core').Page): Promise<{ count: number; text: string }> => ({
    count: Number(await page.locator('#ex-status').getAttribute('data-count')),
    text: (await page.locator('#ex-status').textContent()) ?? '',
  });

  it('writes one thumbnail per distinct image once, and data files far below the size bound', async () => {
    const thumbs = fs.readdirSync(path.join(gen.dir, 'thumbs'));
    const distinct = new Set(gen.imageFiles.map((f) => fs.readFileSync(f).toString('base64')));
    expect(thumbs).toHaveLength(distinct.size);
    expect(thumbs.every((t) => /^[0-9a-f]{16}\.jpg$/.test(t))).toBe(true);
    expect(firstReport.explorer).toEqual({ items: 2000, thumbnails: { written: distinct.size, present: 0, unreadable: 0 } });
    // A second report makes none again.
    const again = await writeRunReport(RunDirectory.open(gen.dir));
    expect(again.explorer.thumbnails).toEqual({ written: 0, present: distinct.size, unreadable: 0 });
    // The page and all its data: one file per arm, 8 detail files of 256 items, and a bound of 200 bytes per sample in all.
    const data = fs.readdirSync(path.join(gen.dir, 'report-data'));
    expect(data.sort()).toEqual(
      ['index.js', ...Array.from({ length: 4 }, (_, a) => `arm-${a}.js`), ...Array.from({ length: 8 }, (_, k) => `items-${k}.js`)].sort(),
    );
    const bytes = fs.statSync(html).size + data.reduce((t, f) => t + fs.statSync(path.join(gen.dir, 'report-data', f)).size, 0);
    expect(bytes).toBeLessThan(8000 * 200);
    // No inline images any more.
    expect(fs.readFileSync(html, 'utf8')).not.toContain('data:image');
  });

  it('opens from disk, filters by benchmark, arm pair and cell, sorts and paginates', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${html}`);
    await page.waitForSelector('#explorer[data-state="ready"]');
    expect(await status(page)).toEqual({ count: 2000, text: 'items 1–50 of 2,000' });
    // Only the visible page's rows and images are in the DOM, every image lazy and a file in thumbs/.
    expect(await page.locator('#ex-rows tr').count()).toBe(50);
    const srcs = await page.locator('#ex-rows img').evaluateAll((imgs) => imgs.map((i) => [i.getAttribute('loading'), i.getAttribute('src')]));
    expect(srcs).toHaveLength(50);
    for (const [loading, src] of srcs) {
      expect(loading).toBe('lazy');
      expect(src).toMatch(/^thumbs\/[0-9a-f]{16}\.jpg$/);
      expect(fs.existsSync(path.join(gen.dir, src!))).toBe(true);
    }
    expect(await page.locator('#ex-rows tr').first().getAttribute('data-item')).toBe('whatsup.gen1/0');

    // Benchmark 2, arm pair vlm.mcq vs clip, only the arm right.
    await rendered(page, () => page.selectOption('#ex-bench', { label: 'whatsup.gen2 (1,000 items)' }));
    expect((await status(page)).count).toBe(1000);
    await rendered(page, () => page.selectOption('#ex-pair', { label: 'vlm.mcq vs clip' }));
    await rendered(page, () => page.selectOption('#ex-cell', 'arm'));
    const onlyArm = expected(1, 'vlm.mcq', 'arm');
    expect(onlyArm).toBeGreaterThan(150);
    expect(await status(page)).toEqual({ count: onlyArm, text: `items 1–50 of ${onlyArm}` });
    expect(await page.locator('#ex-cell option:checked').textContent()).toBe(`only arm right (${onlyArm})`);
    for (const cell of ['both', 'baseline', 'neither', 'excluded'] as const) {
      await rendered(page, () => page.selectOption('#ex-cell', cell));
      expect((await status(page)).count).toBe(expected(1, 'vlm.mcq', cell));
    }
    await rendered(page, () => page.selectOption('#ex-cell', 'arm'));
    const ids = await page.locator('#ex-rows tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-item')!));
    expect(ids.every((id) => id.startsWith('whatsup.gen2/'))).toBe(true);
    for (const id of ids.slice(0, 10)) {
      const i = Number(id.split('/')[1]);
      expect([gen.outcome(1, i, 'vlm.mcq'), gen.outcome(1, i, 'clip')]).toEqual(['right', 'wrong']);
    }
    // Item id order is numeric.
    const numbers = ids.map((id) => Number(id.split('/')[1]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));

    // Pages: the last page holds the rest; next is then disabled.
    const pages = Math.ceil(onlyArm / 50);
    await rendered(page, () => page.click('#ex-last'));
    await page.waitForFunction((p) => document.getElementById('explorer')!.dataset.page === String(p), pages - 1);
    expect(await page.locator('#ex-page').textContent()).toBe(`page ${pages} of ${pages}`);
    expect(await page.locator('#ex-rows tr').count()).toBe(onlyArm - 50 * (pages - 1));
    expect(await page.locator('#ex-next').isDisabled()).toBe(true);
    await rendered(page, () => page.click('#ex-prev'));
    await page.waitForFunction((p) => document.getElementById('explorer')!.dataset.page === String(p), pages - 2);
    expect((await status(page)).text).toBe(`items ${50 * (pages - 2) + 1}–${50 * (pages - 1)} of ${onlyArm}`);

    // Sorted by the arm's margin, highest first (the margins shown in the arm's column).
    await rendered(page, () => page.selectOption('#ex-sort', 'arm-desc'));
    await page.waitForFunction(() => document.getElementById('explorer')!.dataset.page === '0');
    const margins = await page
      .locator('#ex-rows tr td:nth-child(5)')
      .evaluateAll((cells) => cells.map((c) => Number(/margin (-?[\d.]+)/.exec(c.textContent ?? '')?.[1])));
    expect(margins).toHaveLength(50);
    expect(margins.every((m, k) => Number.isFinite(m) && (k === 0 || m <= margins[k - 1]!))).toBe(true);

    // A count of the 2x2 table opens the explorer on its cell: benchmark 1, vlm.vqascore vs clip, only the baseline right.
    await rendered(page, () => page.click('a.cell[data-bench="whatsup.gen1"][data-arm="vlm.vqascore"][data-cell="baseline"]'));
    const onlyBase = expected(0, 'vlm.vqascore', 'baseline');
    expect((await status(page)).count).toBe(onlyBase);
    expect(await page.locator('a.cell[data-bench="whatsup.gen1"][data-arm="vlm.vqascore"][data-cell="baseline"]').textContent()).toBe(String(onlyBase));
    expect(await page.locator('#ex-bench option:checked').textContent()).toBe('whatsup.gen1 (1,000 items)');

    // All benchmarks: the counts add up.
    await rendered(page, () => page.selectOption('#ex-bench', '-1'));
    expect((await status(page)).count).toBe(expected(null, 'vlm.vqascore', 'baseline'));
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
