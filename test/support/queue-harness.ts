import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { deletePrefixKeys } from '../../src/execution/bullmq/bundle-queue.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from './llama-binaries.js';

/** The CLI entry point, run as a real process (the way users and workers run it). */
export const PERCEIVE_BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'perceive.js');

export const REDIS_URL = 'redis://127.0.0.1:6379';

export interface Proc {
  child: ChildProcess;
  /** stderr so far. */
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
}

/** Starts `perceive <args>` with the given extra environment (threads 1: the machine has 2 cores). */
export function perceive(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [PERCEIVE_BIN, ...args], {
    env: { ...process.env, REDIS_URL, PERCEIVE_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>((resolve) =>
    child.on('exit', (code, signal) => setTimeout(() => resolve({ code, signal, stderr, stdout }), 50)),
  );
  return { child, err: () => stderr, exit };
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Log lines (pino JSON) of a run's log.jsonl with this message. */
export function logLines(file: string, msg: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((o) => o.msg === msg);
}

/** Model calls per task, from the "task computed" lines every worker writes. */
export function computedPerTask(file: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of logLines(file, 'task computed')) m.set(String(o.task), (m.get(String(o.task)) ?? 0) + 1);
  return m;
}

/** A queue prefix no other test uses. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${process.pid}-${Date.now().toString(36)}`;
}

/** Deletes every key under a prefix (deletePrefixKeys on a connection of its own). */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await deletePrefixKeys(redis, prefix).finally(() => redis.disconnect());
}

/** A TCP port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether a process id is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A config over the generated fixtures in `fixtures` (the demo's layout), writing to `output`,
 * with queue settings short enough for tests (a dead worker's bundle is back in a few seconds).
 */
export function writeQueueConfig(
  file: string,
  o: {
    fixtures: string;
    output: string;
    prefix: string;
    arms?: Array<'clip' | 'vlm.vqascore'>;
    clipBatch?: number;
    limit?: number;
    minBundleTasks?: number;
    /** models.llava.servers (llama-servers per worker). */
    llavaServers?: number;
  },
): string {
  const arms = o.arms ?? ['clip', 'vlm.vqascore'];
  const lines = [
    'name: queue-test',
    'seed: 0',
    `output: ${o.output}`,
    'benchmarks:',
    '  - name: whatsup.synthetic',
    '    format: whatsup-controlled',
    `    annotations: ${o.fixtures}/whatsup/data/controlled_images_dataset.json`,
    `    data_dir: ${o.fixtures}/whatsup`,
    '    subset: controlled_a',
    ...(o.limit ? [`    limit: ${o.limit}`] : []),
    'models:',
    '  llava:',
    '    kind: llama',
    `    model: ${o.fixtures}/tiny-llava/tiny-llava-text.gguf`,
    `    mmproj: ${o.fixtures}/tiny-llava/tiny-llava-mmproj.gguf`,
    '    context_size: 2048',
    ...(o.llavaServers !== undefined ? [`    servers: ${o.llavaServers}`] : []),
    '  clip:',
    '    kind: clip',
    `    path: ${o.fixtures}/tiny-clip`,
    `    batch_size: ${o.clipBatch ?? 8}`,
    'arms:',
    ...arms.map((a) => `  - { arm: ${a}, model: ${a === 'clip' ? 'clip' : 'llava'} }`),
    'queue:',
    `  prefix: ${o.prefix}`,
    '  attempts: 2',
    '  backoff_ms: 200',
    '  lock_ms: 3000',
    '  stalled_check_ms: 1000',
    ...(o.minBundleTasks !== undefined ? [`  min_bundle_tasks: ${o.minBundleTasks}`] : []),
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Ends the processes a test left behind under its temp dir: a SIGKILLed worker cannot stop its
 * llama-server, which then keeps running with the test's fixture paths on its command line.
 */
export function killProcessesUsing(dir: string): number {
  let killed = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) {
        process.kill(Number(entry), 'SIGKILL');
        killed++;
      }
    } catch {
      /* gone, or not ours to read */
    }
  }
  return killed;
}

/**
 * A queue test file's shared set-up, registered as its beforeAll/afterAll: a temp dir holding the
 * demo fixtures (llama-server built first), and the queue prefixes its tests use. Afterwards the
 * processes a test left under the dir are ended, every prefix is dropped and the dir removed.
 * `dir` is set once the file's beforeAll has run.
 */
export function useQueueTestDir(name: string): { dir: string; prefixes: string[] } {
  const setup = { dir: '', prefixes: [] as string[] };
  beforeAll(async () => {
    setup.dir = fs.mkdtempSync(path.join(os.tmpdir(), `perceive-${name}-`));
    await llamaBinaries();
    await writeDemoFixtures(path.join(setup.dir, 'fixtures'), { seed: 0 });
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    killProcessesUsing(setup.dir);
    for (const p of setup.prefixes) await dropPrefix(p);
    fs.rmSync(setup.dir, { recursive: true, force: true });
  });
  return setup;
}
