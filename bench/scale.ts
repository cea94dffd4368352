/**
 * Scale: a generated suite of N items through the real queue, stage by stage, at several N, and
 * how each stage grows with N (issue 16).
 *
 * The suite: What'sUp-style groups (synthetic Controlled-A sets: sets, pairs, slots), ARO-style
 * crops (synthetic VG-Relation rows, each cut to its box), MMVP-style pairs (synthetic MMVP rows), a
 * third each, every image distinct, one benchmark entry per family at every size
 * (bench/support/joined-sets.ts); the tiny CLIP on every item and the
 * tiny LLaVA (`vlm.vqascore`) on a fixed subset of 32 What'sUp items (a benchmark entry whose `arms`
 * names both). Each size runs in a fresh child process: `runExperiment` with one local worker per
 * model on the real Redis under a unique prefix, then `perceive report` on its run directory in a
 * child of its own, twice: the first writes one thumbnail per distinct image (stage `thumbnails`:
 * its cost beyond the second), the second finds them (stage `report`: what every report costs).
 *
 * Per stage, the time: load and hash, plan, enqueue, drain to the store and export from the run's
 * log.jsonl events (`benchmarks loaded`, `images hashed`, `planned`, `enqueued`, `queue drained`: the
 * run process's time moving finished jobs into the store, `samples exported`); compute from the
 * workers' `task computed` lines (first to last); report: the `perceive report` child's wall time.
 * Each stage also in CPU time: the run process's own (`cpuMs` on the same log lines), the workers'
 * and llama-server's (utime + stime from /proc, start-up included), the report child's. Peak RSS per
 * process: the run process's `maxRSS`, each worker's and llama-server's VmHWM (polled from /proc),
 * the report child's `maxRSS`. The growth exponent of a stage between two sizes is
 * log(t2 / t1) / log(N2 / N1): 1 is linear; the verdict takes CPU times (on a shared machine a
 * stage's wall time is mostly other processes'), the wall-time exponents are printed beside them.
 *
 *   npx tsx bench/scale.ts [--sizes 2000,8000,32000] [--largest] [--repeats K] [--keep] [--small] [--prepare] [--clip-only]
 *
 * (`--prepare`: generate the sets and stop; `--clip-only`: no LLaVA subset, where llama-server is not built.)
 * `--largest` adds 128,000 items (the largest this machine's 2 cores hold within an hour or so);
 * `--small`: 200 and 800 items (checks that it runs). `--repeats K`: every size K times, interleaved;
 * each stage's figure is its best over the repeats (its spread printed beside it). Last line: the worst exponent over the stages
 * and sizes (target ≤ 1.1) and the report's cost per sample: its marginal CPU time per sample
 * between the smallest and the largest size (target ≤ 0.5 ms; its ~2 s start-up is no per-sample cost).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExperimentConfig } from '../src/config/experiment.js';
import { readEnvironment } from '../src/core/environment.js';
import { hostTools } from '../src/models/host-tools.js';
import { runExperiment } from '../src/run/run-experiment.js';
import { argValue, benchCacheDir, benchFixtures, dropPrefix, isSmall, seconds, tempDir, uniquePrefix, writeConfig } from './support/bench-setup.js';
import { type LogLine, readLog } from './support/run-log-reader.js';
import { joinedAro, joinedMmvp, joinedWhatsUp } from './support/joined-sets.js';
import { timeReport } from './support/report-child.js';

/** What'sUp items the tiny LLaVA answers at every size (with CLIP). */
const LLAVA_ITEMS = 32;
/** `--clip-only`: no LLaVA subset (where llama-server is not built). */
const CLIP_ONLY = process.argv.includes('--clip-only');

type Entry = Record<string, unknown>;

/**
 * The benchmark entries of an N-item suite: the LLaVA subset, then one joined set per family (a
 * fixed number of benchmarks at every size; sets generated once under the bench cache).
 */
async function suite(n: number): Promise<Entry[]> {
  const rest = n - LLAVA_ITEMS;
  // Whole What'sUp sets of 4 and whole MMVP pairs.
  const whatsupItems = Math.floor(rest / 3 / 4) * 4;
  const mmvpItems = Math.floor(rest / 3 / 2) * 2;
  const aroItems = rest - whatsupItems - mmvpItems;
  // The LLaVA subset: its own seeded What'sUp set (distinct images), both arms.
  const [llava] = await subsetSet(path.join(benchCacheDir(), 'whatsup', 'llava-subset'));
  return [
    { ...llava, name: 'whatsup.llava', limit: LLAVA_ITEMS, arms: CLIP_ONLY ? ['clip'] : ['clip', 'vlm.vqascore'] },
    { ...(await joinedWhatsUp(whatsupItems)), name: 'whatsup.joined', arms: ['clip'] },
    { ...(await joinedAro(aroItems)), name: 'aro.joined', arms: ['clip'] },
    { ...(await joinedMmvp(mmvpItems)), name: 'mmvp.joined', arms: ['clip'] },
  ];
}

/** A What'sUp set of its own seed (1000) for the LLaVA subset. */
async function subsetSet(dir: string): Promise<Entry[]> {
  const annotations = path.join(dir, 'data', 'controlled_images_dataset.json');
  if (!fs.existsSync(annotations)) {
    const { writeSyntheticWhatsUp, SYNTHETIC_WHATSUP_MAX_PAIRS } = await import('../src/fixtures/synthetic-whatsup.js');
    await writeSyntheticWhatsUp(dir, { seed: 1000, pairs: SYNTHETIC_WHATSUP_MAX_PAIRS });
  }
  return [{ format: 'whatsup-controlled', annotations, data_dir: dir, subset: 'controlled_a' }];
}

interface ChildResult {
  runDir: string;
  samples: number;
  wallMs: number;
  runKb: number;
}

/** The child: one run of N items; prints `RESULT {json}`. */
async function child(n: number, dir: string, prefix: string): Promise<void> {
  const fixtures = await benchFixtures();
  const file = writeConfig(dir, `scale-${n}.yaml`, {
    name: `scale-${n}`,
    benchmarks: await suite(n),
    models: {
      clip: { kind: 'clip', path: fixtures.clip, threads: 1 },
      ...(CLIP_ONLY ? {} : { llava: { kind: 'llama', model: fixtures.llava.model, mmproj: fixtures.llava.mmproj, context_size: 2048, slots: 1, threads: 1 } }),
    },
    arms: [{ arm: 'clip', model: 'clip' }, ...(CLIP_ONLY ? [] : [{ arm: 'vlm.vqascore', model: 'llava' }])],
    queue: { prefix },
  });
  const result = await runExperiment(loadExperimentConfig(file), readEnvironment(), hostTools({}), { queue: 'redis', workers: 1, runId: `scale-${n}` });
  const out: ChildResult = { runDir: result.run.dir, samples: result.sampleCount, wallMs: result.wallMs, runKb: process.resourceUsage().maxRSS };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

/** Peak RSS (VmHWM, kB) and CPU time so far (utime + stime, ms) of every descendant of `root`, by pid, with what it is. */
function descendantPeaks(root: number, into: Map<number, { what: string; kb: number; cpuMs: number }>): void {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  const tick = 1000 / 100; // ms per clock tick (USER_HZ is 100 on Linux)
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted from the state field (3).
      cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      // gone meanwhile
    }
  }
  for (const [pid] of parent) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p);
    if (p !== root || pid === root) continue;
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!hwm) continue;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const model = argv[argv.indexOf('--model') + 1];
      const what = argv.includes('worker') ? `worker ${model}` : path.basename(argv[0] ?? '?');
      // Workers and their llama-servers (not short helpers such as git).
      if (!what.startsWith('worker') && what !== 'llama-server') continue;
      into.set(pid, { what, kb: Math.max(into.get(pid)?.kb ?? 0, Number(hwm[1])), cpuMs: Math.max(into.get(pid)?.cpuMs ?? 0, cpu.get(pid) ?? 0) });
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * `thumbnails` is the first `perceive report`'s extra over the second on the same run: the one small
 * JPEG per distinct image the first report writes into thumbs/ (once per image; a later report finds
 * them). `report` is the second report: what every report of the run costs.
 */
const STAGES = ['load and hash', 'plan', 'enqueue', 'compute', 'drain to the store', 'export', 'thumbnails', 'report'] as const;
type Stage = (typeof STAGES)[number];

interface SizeResult {
  n: number;
  samples: number;
  wallMs: number;
  stageMs: Record<Stage, number>;
  /** CPU time per stage: the run process's own (log.jsonl `cpuMs`), the workers' (compute), the report child's. */
  stageCpuMs: Record<Stage, number>;
  /** Peak RSS in MiB by process. */
  peaks: Array<{ what: string; mb: number }>;
  reportHtmlMb: number;
  /** The drain's CPU time in the store's writes (SQLite), ms: the rest is reading and removing jobs (Redis, JSON). */
  drainStoreCpuMs: number;
}

function ms(lines: LogLine[], msg: string, field: 'ms' | 'cpuMs' = 'ms'): number {
  const l = lines.find((x) => x.msg === msg);
  const v = l?.[field];
  if (typeof v !== 'number') throw new Error(`log.jsonl has no "${msg}" line with ${field}`);
  return v;
}

async function measure(n: number): Promise<SizeResult> {
  const dir = tempDir(`scale-${n}`);
  const prefix = uniquePrefix(`scale${n}`);
  const self = fileURLToPath(import.meta.url);
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', self, '--child', String(n), '--dir', dir, '--prefix', prefix, ...(CLIP_ONLY ? ['--clip-only'] : [])],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const peaks = new Map<number, { what: string; kb: number; cpuMs: number }>();
  const poll = setInterval(() => descendantPeaks(proc.pid!, peaks), 250);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  clearInterval(poll);
  await dropPrefix(prefix);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) throw new Error(`scale child for ${n} items exited ${code}:\n${out.slice(-3000)}`);
  const r = JSON.parse(line.slice(7)) as ChildResult;
  const log = readLog(path.join(r.runDir, 'log.jsonl'));
  const computed = log.filter((l) => l.msg === 'task computed').map((l) => l.time);
  // The first report writes every image's thumbnail; the second finds them and is the report's own cost.
  const first = await timeReport(r.runDir);
  const report = await timeReport(r.runDir);
  // The report's wall and RSS are measured on whatever `perceive report` writes: the HTML report
  // and, once it exists, the per-item explorer beside it (issue 16.3); its own size goes here.
  const reportHtmlMb = fs.statSync(path.join(r.runDir, 'report.html')).size / 2 ** 20;
  const stageMs: Record<Stage, number> = {
    'load and hash': ms(log, 'benchmarks loaded') + ms(log, 'images hashed'),
    plan: ms(log, 'planned'),
    enqueue: ms(log, 'enqueued'),
    // A loop, not Math.max(...computed): a spread of 128,000 arguments overflows the stack.
    compute: computed.reduce((a, b) => Math.max(a, b), -Infinity) - computed.reduce((a, b) => Math.min(a, b), Infinity),
    'drain to the store': ms(log, 'queue drained'),
    export: ms(log, 'samples exported'),
    thumbnails: Math.max(0, first.wallMs - report.wallMs),
    report: report.wallMs,
  };
  const stageCpuMs: Record<Stage, number> = {
    'load and hash': ms(log, 'benchmarks loaded', 'cpuMs') + ms(log, 'images hashed', 'cpuMs'),
    plan: ms(log, 'planned', 'cpuMs'),
    enqueue: ms(log, 'enqueued', 'cpuMs'),
    // Every worker's CPU time (its start-up included) and its llama-server's.
    compute: [...peaks.values()].reduce((t, p) => t + p.cpuMs, 0),
    'drain to the store': ms(log, 'queue drained', 'cpuMs'),
    export: ms(log, 'samples exported', 'cpuMs'),
    thumbnails: Math.max(0, first.cpuMs - report.cpuMs),
    report: report.cpuMs,
  };
  const byWhat = new Map<string, number>([['run process', r.runKb]]);
  for (const { what, kb } of peaks.values()) byWhat.set(what, Math.max(byWhat.get(what) ?? 0, kb));
  byWhat.set('report', Math.max(first.peakKb, report.peakKb));
  if (process.argv.includes('--keep')) process.stdout.write(`kept ${dir}\n`);
  else fs.rmSync(dir, { recursive: true, force: true });
  const drainStoreCpuMs = Number(log.find((l) => l.msg === 'queue drained')?.storeCpuMs ?? Number.NaN);
  return {
    n,
    samples: r.samples,
    wallMs: r.wallMs,
    stageMs,
    stageCpuMs,
    peaks: [...byWhat].map(([what, kb]) => ({ what, mb: kb / 1024 })),
    reportHtmlMb,
    drainStoreCpuMs,
  };
}

/** One figure per size from its repeats: each stage's best time (CPU and wall apart), each process's highest peak. */
function bestOf(rs: SizeResult[]): SizeResult {
  const min = (t: (r: SizeResult) => number): number => rs.reduce((a, r) => Math.min(a, t(r)), Number.POSITIVE_INFINITY);
  const stageMs = Object.fromEntries(STAGES.map((s) => [s, min((r) => r.stageMs[s])])) as Record<Stage, number>;
  const stageCpuMs = Object.fromEntries(STAGES.map((s) => [s, min((r) => r.stageCpuMs[s])])) as Record<Stage, number>;
  const peaks = new Map<string, number>();
  for (const r of rs) for (const p of r.peaks) peaks.set(p.what, Math.max(peaks.get(p.what) ?? 0, p.mb));
  return {
    ...rs[0]!,
    wallMs: min((r) => r.wallMs),
    stageMs,
    stageCpuMs,
    peaks: [...peaks].map(([what, mb]) => ({ what, mb })),
    drainStoreCpuMs: min((r) => r.drainStoreCpuMs),
  };
}

/** Best, median and worst of a stage's times. */
function spread(times: number[]): [number, number, number] {
  const sorted = [...times].sort((a, b) => a - b);
  return [sorted[0]!, sorted[Math.floor((sorted.length - 1) / 2)]!, sorted[sorted.length - 1]!];
}

const exponent = (t1: number, t2: number, n1: number, n2: number): number => Math.log(t2 / t1) / Math.log(n2 / n1);

async function main(): Promise<void> {
  const sizes = isSmall()
    ? [200, 800]
    : argValue('sizes', '2000,8000,32000')
        .split(',')
        .map(Number)
        .concat(process.argv.includes('--largest') ? [128_000] : []);
  await benchFixtures();
  // Every set is generated here, before any measurement (rendering images is no stage of a run).
  const t0 = performance.now();
  for (const n of sizes) await suite(n);
  process.stdout.write(`suite of ${Math.max(...sizes).toLocaleString('en')} items ready in ${seconds(performance.now() - t0)}\n`);
  if (process.argv.includes('--prepare')) return;
  // `--repeats K`: every size K times, interleaved (2,000, 8,000, 32,000, 2,000, …) so that a host's
  // drift falls on every size alike; each stage's best time over the repeats is its figure (the
  // growth exponents compare bests), with its spread (best / median / worst) printed beside it.
  const repeats = Math.max(1, Number(argValue('repeats', '1')));
  const runs = new Map<number, SizeResult[]>(sizes.map((n) => [n, []]));
  for (let k = 1; k <= repeats; k++) {
    for (const n of sizes) {
      const load = os.loadavg()[0]!;
      const r = await measure(n);
      runs.get(n)!.push(r);
      process.stdout.write(
        `\n${n.toLocaleString('en')} items, ${r.samples.toLocaleString('en')} samples${repeats > 1 ? ` (repeat ${k} of ${repeats})` : ''} (run ${seconds(r.wallMs)}, load average ${load.toFixed(1)} before):\n` +
          STAGES.map(
            (s) =>
              `  ${s.padEnd(20)} wall ${seconds(r.stageMs[s]).padStart(9)} ${((r.stageMs[s] / r.samples) * 1000).toFixed(0).padStart(6)} µs per sample;` +
              ` CPU ${seconds(r.stageCpuMs[s]).padStart(9)} ${((r.stageCpuMs[s] / r.samples) * 1000).toFixed(0).padStart(6)} µs per sample`,
          ).join('\n') +
          `\n  drain to the store, CPU: the store's writes ${seconds(r.drainStoreCpuMs)} (${((r.drainStoreCpuMs / r.samples) * 1000).toFixed(0)} µs per sample), the rest ${seconds(r.stageCpuMs['drain to the store'] - r.drainStoreCpuMs)}` +
          `\n  peak RSS: ${r.peaks.map((p) => `${p.what} ${p.mb.toFixed(0)} MiB`).join(', ')}; report.html ${r.reportHtmlMb.toFixed(1)} MiB\n`,
      );
    }
  }
  const results = sizes.map((n) => bestOf(runs.get(n)!));
  if (repeats > 1) {
    process.stdout.write(`\nper stage, CPU time over ${repeats} repeats: best / median / worst (the best is the stage's figure):\n`);
    for (const n of sizes) {
      const rs = runs.get(n)!;
      process.stdout.write(
        `  ${n.toLocaleString('en')} items: ${STAGES.map((s) => {
          const [best, median, worst] = spread(rs.map((r) => r.stageCpuMs[s]));
          return `${s} ${seconds(best)} / ${seconds(median)} / ${seconds(worst)}`;
        }).join('; ')}\n`,
      );
    }
  }
  // The verdict is on CPU time: on a shared machine a stage's wall time is mostly other processes'.
  let worst = { value: Number.NEGATIVE_INFINITY, where: '' };
  let worstWall = { value: Number.NEGATIVE_INFINITY, where: '' };
  process.stdout.write('\ngrowth exponent log(t2/t1)/log(N2/N1) per stage (1 = linear), CPU time (wall time):\n');
  for (let k = 1; k < results.length; k++) {
    const [a, b] = [results[k - 1]!, results[k]!];
    const row = STAGES.map((s) => {
      const e = exponent(a.stageCpuMs[s], b.stageCpuMs[s], a.samples, b.samples);
      const w = exponent(a.stageMs[s], b.stageMs[s], a.samples, b.samples);
      const where = `${s}, ${a.n.toLocaleString('en')} → ${b.n.toLocaleString('en')} items`;
      if (e > worst.value) worst = { value: e, where };
      if (w > worstWall.value) worstWall = { value: w, where };
      return `${s} ${e.toFixed(2)} (${w.toFixed(2)})`;
    });
    const rss = a.peaks.map((p) => {
      const q = b.peaks.find((x) => x.what === p.what);
      return q ? `${p.what} ${exponent(p.mb, q.mb, a.samples, b.samples).toFixed(2)}` : undefined;
    });
    const rest = (r: SizeResult): number => r.stageCpuMs['drain to the store'] - r.drainStoreCpuMs;
    process.stdout.write(
      `  ${a.n} → ${b.n}: ${row.join(', ')}\n  peak RSS ${a.n} → ${b.n}: ${rss.filter(Boolean).join(', ')}\n` +
        `  drain to the store, CPU: the store's writes ${exponent(a.drainStoreCpuMs, b.drainStoreCpuMs, a.samples, b.samples).toFixed(2)}, the rest ${exponent(rest(a), rest(b), a.samples, b.samples).toFixed(2)}\n`,
    );
  }
  // The report's cost per sample: its marginal cost between the smallest and largest size (its
  // start-up, about 2 s of tsx and modules, is no per-sample cost), CPU and wall.
  const [first, last] = [results[0]!, results[results.length - 1]!];
  const marginal = (t: (r: SizeResult) => number): number => (t(last) - t(first)) / (last.samples - first.samples);
  const reportCpu = marginal((r) => r.stageCpuMs.report);
  const reportWall = marginal((r) => r.stageMs.report);
  const thumbsCpu = marginal((r) => r.stageCpuMs.thumbnails);
  const met = worst.value <= 1.1 && reportCpu <= 0.5;
  process.stdout.write(
    `thumbnails (the first report only, one per distinct image, written once): ${thumbsCpu.toFixed(3)} ms CPU per sample (marginal); ` +
      `a first report with them: ${(reportCpu + thumbsCpu).toFixed(3)} ms per sample\n`,
  );
  process.stdout.write(
    `wall time: worst exponent ${worstWall.value.toFixed(3)} [${worstWall.where}]; report ${reportWall.toFixed(3)} ms per sample (marginal, wall), ${(last.stageMs.report / last.samples).toFixed(3)} ms per sample in all at ${last.samples.toLocaleString('en')}\n`,
  );
  process.stdout.write(
    `scale (CPU time: worst stage growth exponent ${worst.value.toFixed(3)} [${worst.where}], target ≤ 1.1: ${worst.value <= 1.1 ? 'met' : 'NOT met'}; ` +
      `report ${reportCpu.toFixed(3)} ms per sample (marginal, ${first.samples.toLocaleString('en')} → ${last.samples.toLocaleString('en')}), target ≤ 0.5 ms: ${reportCpu <= 0.5 ? 'met' : 'NOT met'}) ${met ? 'met' : 'NOT met'}\n`,
  );
}

if (process.argv.includes('--child')) await child(Number(argValue('child', '200')), argValue('dir', ''), argValue('prefix', ''));
else await main();
