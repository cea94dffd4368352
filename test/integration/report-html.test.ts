import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunReport } from '../../src/report/run-report.js';
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
    // Thumbnails of the items where the arms disagree (3 + 1), decoded by the browser.
    const widths = await page.locator('img.thumb').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(widths).toHaveLength(4);
    expect(widths.every((w) => w > 0)).toBe(true);
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text a reader sees, not the DOM's raw text
    const text = await page.locator('body').innerText();
    expect(text).toContain('Exact McNemar test: p = 0.625');
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
    expect(fs.statSync(path.join(dir, 'report.png')).size).toBeGreaterThan(10_000);
    await page.close();
  });
});
