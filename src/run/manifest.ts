import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedConfig } from '../config/experiment.js';
import type { Environment } from '../core/environment.js';
import { fileSha256 } from '../core/file-hash.js';
import { isFixtureModel } from '../core/fixture-marker.js';
import type { Item } from '../core/item.js';
import { describeHostTools } from '../models/host-tools.js';
import type { HostTools } from '../models/model-kind.js';
import type { ModelInfo } from '../execution/model-runtime.js';
import type { ArmIdentity } from '../execution/plan.js';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function packageVersion(name: string): string | null {
  try {
    const require = createRequire(path.join(PACKAGE_ROOT, 'package.json'));
    let dir = path.dirname(require.resolve(name));
    while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
      const up = path.dirname(dir);
      if (up === dir) return null;
      dir = up;
    }
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version as string;
  } catch {
    return null;
  }
}

/** perceive's version and, when run from a git checkout, the commit (with "-dirty" if modified). */
export function codeVersion(): { version: string; commit: string | null } {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  const rev = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  let commit: string | null = rev.status === 0 ? rev.stdout.trim() : null;
  if (commit) {
    const st = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
    if (st.status === 0 && st.stdout.trim() !== '') commit += '-dirty';
  }
  return { version: pkg.version, commit };
}

/** Everything needed to know what a run computed and to reproduce it. */
export async function buildManifest(args: {
  loaded: LoadedConfig;
  env: Environment;
  tools: HostTools;
  models: ModelInfo[];
  arms: ArmIdentity[];
  items: Item[];
  runId: string;
  /** How the run executes: queue or in-process, the data root, the store file. */
  execution?: Record<string, unknown>;
}): Promise<Record<string, unknown>> {
  const { loaded, env, tools, models, arms, items } = args;
  const datasets = [];
  // Counted in one pass (a suite has hundreds of benchmark entries and ~100,000 items).
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.benchmark, (counts.get(i.benchmark) ?? 0) + 1);
  for (const b of loaded.config.benchmarks) {
    datasets.push({
      name: b.name,
      format: b.format,
      annotations: b.annotations,
      annotations_sha256: await fileSha256(b.annotations).catch(() => null),
      data_dir: b.data_dir,
      items: counts.get(b.name) ?? 0,
    });
  }
  return {
    run_id: args.runId,
    created_at: new Date().toISOString(),
    perceive: codeVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    packages: Object.fromEntries(['node-llama-cpp', 'onnxruntime-node', 'sharp', '@huggingface/tokenizers', 'zod', 'yaml'].map((n) => [n, packageVersion(n)])),
    ...describeHostTools(tools),
    seed: loaded.config.seed,
    config_file: loaded.file,
    config: loaded.config,
    config_text: loaded.text,
    threads: env.threads,
    models: models.map((m) => ({ ...m, fixture: m.files.some((f) => isFixtureModel(f)) })),
    arms: arms.map((a) => ({ arm: a.id, model: a.model, model_hash: a.modelHash, prompt: a.prompt ?? null, params: a.params ?? null })),
    datasets,
    execution: args.execution ?? null,
  };
}
