/**
 * Shared set-up of the benchmarks under bench/: the tiny generated fixtures (cached), synthetic
 * What'sUp sets of any size (several seeds, one benchmark entry each), configs written to a
 * temp dir, a unique queue prefix and its clean-up on the real Redis, and the ratio line.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import YAML from 'yaml';
import { readEnvironment } from '../../src/core/environment.js';
import { deletePrefixKeys } from '../../src/execution/bullmq/bundle-queue.js';
import { type FixtureSet, writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { SYNTHETIC_WHATSUP_MAX_PAIRS, writeSyntheticWhatsUp } from '../../src/fixtures/synthetic-whatsup.js';

export const REDIS_URL = readEnvironment().redisUrl;

export function isSmall(argv: string[] = process.argv): boolean {
  return argv.includes('--small');
}

/** The value after `--name` on the command line, else the default. */
export function argValue(name: string, fallback: string, argv: string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}

/** Where the benchmarks keep generated fixtures between runs (outside the repo). */
export function benchCacheDir(): string {
  return path.join(readEnvironment().cacheDir, 'bench');
}

/** The demo fixtures (tiny LLaVA GGUF pair, tiny CLIP ONNX folder), generated once. */
export async function benchFixtures(): Promise<FixtureSet> {
  return writeDemoFixtures(path.join(benchCacheDir(), 'fixtures'), { seed: 0, ifNeeded: true });
}

export interface WhatsUpBenchmark {
  name: string;
  format: 'whatsup-controlled';
  annotations: string;
  data_dir: string;
  subset: string;
}

/**
 * At least `items` synthetic What'sUp Controlled-A items: as many seeded sets as needed (each
 * distinct images, so distinct bundles), one benchmark entry per set; the last set is cut with
 * `limit` so the total is exact. Sets are cached by seed.
 */
export async function whatsupBenchmarks(items: number): Promise<Array<WhatsUpBenchmark & { limit?: number }>> {
  const perSet = SYNTHETIC_WHATSUP_MAX_PAIRS * 4;
  const sets = Math.ceil(items / perSet);
  const out: Array<WhatsUpBenchmark & { limit?: number }> = [];
  for (let k = 0; k < sets; k++) {
    const dir = path.join(benchCacheDir(), 'whatsup', `seed-${k + 1}`);
    const annotations = path.join(dir, 'data', 'controlled_images_dataset.json');
    if (!fs.existsSync(annotations)) await writeSyntheticWhatsUp(dir, { seed: k + 1, pairs: SYNTHETIC_WHATSUP_MAX_PAIRS });
    const left = items - k * perSet;
    out.push({
      name: `whatsup.s${k + 1}`,
      format: 'whatsup-controlled',
      annotations,
      data_dir: dir,
      subset: 'controlled_a',
      ...(left < perSet ? { limit: left } : {}),
    });
  }
  return out;
}

export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `perceive-bench-${name}-`));
}

/** Writes a config file (YAML) into `dir`; `output` defaults to a fresh folder there (a fresh store). */
export function writeConfig(dir: string, file: string, config: Record<string, unknown>): string {
  const full = path.join(dir, file);
  fs.writeFileSync(full, YAML.stringify({ output: path.join(dir, `${path.basename(file, '.yaml')}-results`), ...config }));
  return full;
}

/** A queue prefix no other run or bench uses. */
export function uniquePrefix(name: string): string {
  return `bench-${name}-${process.pid}-${Date.now().toString(36)}`;
}

/** Deletes every Redis key under a prefix (deletePrefixKeys on a connection of its own). */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await deletePrefixKeys(redis, prefix).finally(() => redis.disconnect());
}

/** The last line every benchmark prints: its ratio, the target and whether it is met. */
export function ratioLine(name: string, ratio: number, target: string, met: boolean): string {
  return `${name} ratio ${ratio.toFixed(3)} (target ${target}: ${met ? 'met' : 'NOT met'})`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The newest modification time of any file under a folder (0 when it is missing). */
function newestMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The compiled CLI (`dist/cli/main.js`, what an installed `perceive` and `npx perceive` run),
 * built first when it is missing or older than a source file: a bench that runs perceive's local
 * workers runs them as users do, not through tsx's loader (about 0.6 s more start-up per worker).
 */
export function compiledCli(): string {
  const entry = path.join(ROOT, 'dist', 'cli', 'main.js');
  const built = fs.existsSync(entry) ? newestMtime(path.join(ROOT, 'dist')) : 0;
  if (built < newestMtime(path.join(ROOT, 'src'))) {
    console.log('building dist/ (the local workers run the compiled CLI, as an installed perceive does)');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}): the bench needs dist/cli/main.js`);
  }
  return entry;
}
