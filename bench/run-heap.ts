/**
 * The run process's live heap per item (issue 16): bench/scale.ts's run child (its generated
 * suite, the real queue, one local worker, `--clip-only`) started with `--expose-gc` and a preload
 * that every 500 ms collects garbage and records `heapUsed` (what is live, not V8's headroom) with
 * the RSS. Each sample is put in the stage it fell in by the run's log.jsonl (load and plan until
 * `planned`, queue until `queue drained`, export until `samples exported`). Per stage: the peak
 * live heap at each size, and its growth per item between the sizes. `--snapshot` also writes a
 * heap snapshot (SIGUSR2) once half the tasks are stored and prints the largest constructors by
 * retained count and self size, to say what is held per item.
 *
 *   npx tsx bench/run-heap.ts [--sizes 1000,4000] [--snapshot] [--small]
 *
 * Last line: the run process's live heap per item between the smallest and the largest size at
 * its peak (bytes), the figure to keep low.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { argValue, benchFixtures, dropPrefix, isSmall, REDIS_URL, tempDir, uniquePrefix } from './support/bench-setup.js';
import { summarizeHeapSnapshot } from './support/heap-summary.js';
import { readLog } from './support/run-log-reader.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STAGES = ['load and plan', 'queue', 'export'] as const;
type Stage = (typeof STAGES)[number];
const STAGE_END: Record<Stage, string> = { 'load and plan': 'planned', queue: 'queue drained', export: 'samples exported' };

/** The preload: a sampler that collects garbage and appends `{time, heap, rss}` lines to RUN_HEAP_FILE. */
const SAMPLER = `data:text/javascript,${encodeURIComponent(`
import fs from 'node:fs';
const file = process.env.RUN_HEAP_FILE;
const sample = () => { globalThis.gc(); const m = process.memoryUsage(); fs.appendFileSync(file, JSON.stringify({ time: Date.now(), heap: m.heapUsed, rss: m.rss }) + '\\n'); };
setInterval(sample, 500).unref();
process.on('exit', sample);
`)}`;

interface SizeResult {
  n: number;
  /** Peak live heap per stage (bytes). */
  peak: Record<Stage, number>;
  peakRss: number;
  snapshot?: string;
  /** Job size in Redis (MEMORY USAGE of job hashes still waiting once enqueued), per job and per task. */
  job?: { jobs: number; bytesPerJob: number; bytesPerTask: number };
}

/** MEMORY USAGE of up to 200 waiting job hashes under `prefix` (their `name` says how many tasks each holds). */
async function jobBytes(prefix: string): Promise<SizeResult['job']> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let [bytes, tasks, jobs] = [0, 0, 0];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if (jobs >= 200 || (await redis.type(key)) !== 'hash') continue;
        const [name, state] = await redis.hmget(key, 'name', 'finishedOn');
        const n = /^(\d+) tasks/.exec(name ?? '');
        if (!n || state) continue;
        bytes += Number(await redis.memory('USAGE', key));
        tasks += Number(n[1]);
        jobs++;
      }
    } while (cursor !== '0' && jobs < 200);
    return jobs > 0 ? { jobs, bytesPerJob: bytes / jobs, bytesPerTask: bytes / tasks } : undefined;
  } finally {
    redis.disconnect();
  }
}

async function measure(n: number, snapshot: boolean): Promise<SizeResult> {
  const dir = tempDir(`run-heap-${n}`);
  const prefix = uniquePrefix(`runheap${n}`);
  const samplesFile = path.join(dir, 'heap.jsonl');
  const logFile = path.join(dir, `scale-${n}-results`, `scale-${n}`, 'log.jsonl');
  const proc = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--heapsnapshot-signal=SIGUSR2',
      `--diagnostic-dir=${dir}`,
      '--import',
      'tsx',
      '--import',
      SAMPLER,
      path.join(HERE, 'scale.ts'),
      '--child',
      String(n),
      '--dir',
      dir,
      '--prefix',
      prefix,
      '--clip-only',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.resolve(HERE, '..'), env: { ...process.env, RUN_HEAP_FILE: samplesFile } },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // Half the tasks stored: the plan, the queue's bookkeeping and the drained results all live.
  let signalled = false;
  let sizing: Promise<SizeResult['job']> | undefined;
  const watch = setInterval(() => {
    if (!sizing && readLog(logFile, 'enqueued').length > 0) sizing = jobBytes(prefix);
    if (!snapshot || signalled) return;
    const stored = readLog(logFile, 'stored finished bundles').reduce((s, l) => s + Number(l.stored ?? 0), 0);
    if (stored >= n / 2) {
      signalled = true;
      proc.kill('SIGUSR2');
    }
  }, 1000);
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  clearInterval(watch);
  const job = await sizing;
  await dropPrefix(prefix);
  if (code !== 0 || !out.includes('RESULT ')) throw new Error(`run child for ${n} items exited ${code}:\n${out.slice(-3000)}`);
  const log = readLog(logFile);
  const ends = STAGES.map((s) => {
    const line = log.find((l) => l.msg === STAGE_END[s]);
    if (!line) throw new Error(`${logFile} has no "${STAGE_END[s]}" line`);
    return line.time;
  });
  const samples = fs
    .readFileSync(samplesFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { time: number; heap: number; rss: number });
  const peak = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  let peakRss = 0;
  for (const s of samples) {
    const k = ends.findIndex((t) => s.time <= t);
    const stage = STAGES[k === -1 ? STAGES.length - 1 : k]!;
    peak[stage] = Math.max(peak[stage], s.heap);
    peakRss = Math.max(peakRss, s.rss);
  }
  const snap = fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
  const result: SizeResult = { n, peak, peakRss, ...(job ? { job } : {}), ...(snap ? { snapshot: path.join(dir, snap) } : {}) };
  if (snap) {
    const kept = path.join(path.dirname(dir), `run-heap-${n}.heapsnapshot`);
    fs.renameSync(path.join(dir, snap), kept);
    result.snapshot = kept;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const sizes = isSmall() ? [200, 800] : argValue('sizes', '1000,4000').split(',').map(Number);
  const snapshot = process.argv.includes('--snapshot');
  await benchFixtures();
  const results: SizeResult[] = [];
  for (const n of sizes) {
    const r = await measure(n, snapshot);
    results.push(r);
    process.stdout.write(
      `${n.toLocaleString('en')} items: peak live heap ${STAGES.map((s) => `${s} ${mb(r.peak[s])}`).join(', ')}; peak RSS while sampled ${mb(r.peakRss)}` +
        (r.job ? `; job in Redis ${r.job.bytesPerJob.toFixed(0)} B (${r.job.bytesPerTask.toFixed(0)} B per task, ${r.job.jobs} waiting jobs)` : '') +
        '\n',
    );
    if (r.snapshot) {
      process.stdout.write(`  heap snapshot ${r.snapshot} (half the tasks stored), largest by self size:\n`);
      for (const row of summarizeHeapSnapshot(r.snapshot, 15)) {
        process.stdout.write(`    ${row.name.slice(0, 60).padEnd(60)} ${String(row.count).padStart(9)} × ${mb(row.size).padStart(10)}\n`);
      }
    }
  }
  const [first, last] = [results[0]!, results[results.length - 1]!];
  const perItem = (s: Stage): number => (last.peak[s] - first.peak[s]) / (last.n - first.n);
  process.stdout.write(`per item (${first.n} → ${last.n}): ${STAGES.map((s) => `${s} ${perItem(s).toFixed(0)} B`).join(', ')}\n`);
  const worst = Math.max(...STAGES.map(perItem));
  process.stdout.write(`run process live heap per item at its peak: ${worst.toFixed(0)} bytes\n`);
}

await main();
