/**
 * Memory: peak RSS of the run process and of its worker over a synthetic run of 500 and of 2,000
 * items (synthetic What'sUp sets, clip arm on the tiny CLIP model, the queue on the real Redis,
 * one local worker). Each size runs in a fresh child process (so its peak is its own); the worker's
 * peak is its VmHWM from /proc, read until it exits. Ratio = peak(2,000) / peak(500) of the worst
 * of the two processes; target: no growth beyond the store, taken here as ≤ 1.10.
 *
 *   npx tsx bench/memory.ts [--small] [--repeats R]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadExperimentConfig } from '../src/config/experiment.js';
import { readEnvironment } from '../src/core/environment.js';
import { runExperiment } from '../src/run/run-experiment.js';
import { argValue, benchFixtures, dropPrefix, isSmall, ratioLine, tempDir, uniquePrefix, whatsupBenchmarks, writeConfig } from './support/bench-setup.js';
import { spreadText } from './support/spread.js';
import { hostTools } from '../src/models/host-tools.js';

interface Peaks {
  items: number;
  ok: number;
  wallMs: number;
  runKb: number;
  workerKb: number;
  storeBytes: number;
}

/** VmHWM (peak RSS, kB) of every child of `pid`, by child pid. */
function childPeaks(pid: number, into: Map<number, number>): void {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (hwm) into.set(Number(entry), Math.max(into.get(Number(entry)) ?? 0, Number(hwm[1])));
    } catch {
      // gone meanwhile
    }
  }
}

async function child(items: number): Promise<void> {
  const fixtures = await benchFixtures();
  const benchmarks = await whatsupBenchmarks(items);
  const dir = tempDir(`memory-${items}`);
  const prefix = uniquePrefix(`memory${items}`);
  const file = writeConfig(dir, `memory-${items}.yaml`, {
    name: `memory-${items}`,
    benchmarks,
    models: { clip: { kind: 'clip', path: fixtures.clip, threads: 1 } },
    arms: [{ arm: 'clip', model: 'clip' }],
    queue: { prefix },
  });
  const workers = new Map<number, number>();
  const poll = setInterval(() => childPeaks(process.pid, workers), 100);
  try {
    const loaded = loadExperimentConfig(file);
    const result = await runExperiment(loaded, readEnvironment(), hostTools({}), { queue: 'redis', workers: 1, runId: `memory-${items}` });
    clearInterval(poll);
    // The peak first: reading the samples back (below, for the ok count) is not part of the run.
    const runKb = process.resourceUsage().maxRSS;
    const peaks: Peaks = {
      items: result.sampleCount,
      ok: result.samples.filter((s) => s.status === 'ok').length,
      wallMs: result.wallMs,
      runKb,
      workerKb: Math.max(0, ...workers.values()),
      storeBytes: fs.statSync(`${loaded.config.output}/cache.sqlite`).size,
    };
    process.stdout.write(`PEAKS ${JSON.stringify(peaks)}\n`);
  } finally {
    clearInterval(poll);
    await dropPrefix(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(items: number): Promise<Peaks> {
  const self = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--import', 'tsx', self, '--child', String(items)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('PEAKS '));
  if (code !== 0 || !line) throw new Error(`memory child for ${items} items exited ${code}:\n${out}`);
  return JSON.parse(line.slice(6)) as Peaks;
}

if (process.argv.includes('--child')) {
  await child(Number(argValue('child', '500')));
} else {
  await benchFixtures();
  const sizes = isSmall() ? [50, 200] : [500, 2000];
  // The synthetic sets are generated here, once, not in the measured children (rendering and
  // encoding thousands of images would count in the run process's peak).
  await whatsupBenchmarks(Math.max(...sizes));
  // Each repeat measures both sizes; a repeat's figure is its worst ratio; the best repeat counts, the spread beside it.
  const repeats = Number(argValue('repeats', '1'));
  const figures: number[] = [];
  let chosen: Peaks[] = [];
  for (let rep = 0; rep < repeats; rep++) {
    const peaks: Peaks[] = [];
    for (const n of sizes) {
      const p = await measure(n);
      peaks.push(p);
      console.log(
        `${n} items: ${p.ok}/${p.items} ok, wall ${(p.wallMs / 1000).toFixed(1)} s; peak RSS run process ${(p.runKb / 1024).toFixed(0)} MiB, worker ${(p.workerKb / 1024).toFixed(0)} MiB; store ${(p.storeBytes / 1024 / 1024).toFixed(1)} MiB`,
      );
    }
    const figure = Math.max(peaks[1]!.runKb / peaks[0]!.runKb, peaks[1]!.workerKb / peaks[0]!.workerKb);
    figures.push(figure);
    if (figure <= Math.min(...figures)) chosen = peaks;
  }
  const [a, b] = chosen as [Peaks, Peaks];
  const runRatio = b.runKb / a.runKb;
  const workerRatio = b.workerKb / a.workerKb;
  console.log(
    `run process: ${runRatio.toFixed(3)}× (${((b.runKb - a.runKb) / 1024).toFixed(1)} MiB more for ${b.items - a.items} more items); worker: ${workerRatio.toFixed(3)}× (${((b.workerKb - a.workerKb) / 1024).toFixed(1)} MiB more)`,
  );
  const worst = Math.max(runRatio, workerRatio);
  console.log(
    ratioLine(
      `memory (peak RSS ${sizes[1]} items / ${sizes[0]} items, worst of run process and worker; ${spreadText(figures)})`,
      worst,
      '≤ 1.10',
      worst <= 1.1,
    ),
  );
}
