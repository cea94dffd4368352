import type { Arm } from '../arms/arm.js';
import type { LoadFailure } from '../benchmarks/benchmark-family.js';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { BenchmarkSpec, LoadedConfig } from '../config/experiment.js';
import type { Environment } from '../config/environment.js';
import { ImageCache } from '../items/image.js';
import type { Item } from '../items/item.js';
import type { LlamaBinaries } from '../runners/llama/llama-build.js';
import { RunDirectory } from '../store/run-directory.js';
import type { Sample } from '../store/sample.js';
import { type ExecutionContext, executeBundle, failedSample } from './bundle-executor.js';
import { buildManifest } from './manifest.js';
import { ModelPool } from './model-pool.js';
import { planBundles } from './plan.js';

export interface RunProgress {
  done: number;
  total: number;
  failed: number;
  arm: string;
  elapsedMs: number;
}

export interface RunOptions {
  runId?: string;
  onProgress?: (p: RunProgress) => void;
  onMessage?: (line: string) => void;
}

export interface RunResult {
  run: RunDirectory;
  samples: Sample[];
  wallMs: number;
  loadFailures: number;
}

function defaultRunId(name: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${name}-${t}`;
}

/** An item that could not be loaded (bad row, missing image): a placeholder so it is reported. */
function failedRowItem(spec: BenchmarkSpec, f: LoadFailure): Item {
  return {
    id: `${spec.name}/${f.source.row}`,
    benchmark: spec.name,
    subset: spec.subset,
    images: [],
    options: [],
    correct: 0,
    groups: {},
    source: f.source,
    meta: {},
  };
}

/**
 * Executes a config in this process: loads the benchmarks, starts the models, plans bundles and
 * runs them, appending each finished sample to samples.jsonl as it completes. Structured so that
 * the queue (BullMQ) can take the bundles instead of the in-process loop.
 */
export async function runExperiment(
  loaded: LoadedConfig,
  env: Environment,
  binaries: LlamaBinaries | undefined,
  options: RunOptions = {},
): Promise<RunResult> {
  const started = Date.now();
  const { config } = loaded;
  const say = options.onMessage ?? (() => {});
  const run = new RunDirectory(config.output, options.runId ?? defaultRunId(config.name));
  run.create();

  const formats = new Map(config.benchmarks.map((b) => [b.name, b.format] as const));
  const items: Item[] = [];
  const failures: Array<{ spec: BenchmarkSpec; failure: LoadFailure }> = [];
  for (const spec of config.benchmarks) {
    const loadedSet = await benchmarkFamily(spec.format).load(spec);
    say(`${spec.name}: ${loadedSet.items.length} items from ${spec.annotations}` + (loadedSet.failures.length ? `, ${loadedSet.failures.length} bad rows` : ''));
    for (const f of loadedSet.failures) say(`  bad row: ${f.reason}`);
    items.push(...loadedSet.items);
    failures.push(...loadedSet.failures.map((failure) => ({ spec, failure })));
  }

  const pool = new ModelPool(config, env, binaries, run.dir);
  const samples: Sample[] = [];
  try {
    const arms: Arm[] = [];
    for (const spec of config.arms) {
      say(`starting ${spec.arm} on model ${spec.model}…`);
      arms.push(await pool.arm(spec));
    }
    run.writeJson('manifest.json', await buildManifest({ loaded, env, binaries, models: pool.models(), arms, items, runId: run.runId }));

    const ctx: ExecutionContext = {
      runId: run.runId,
      images: new ImageCache(),
      formats,
      onSample: (s) => {
        run.appendSample(s);
        samples.push(s);
      },
    };
    // Rows that failed to load are recorded as failed samples for every arm.
    for (const { spec, failure } of failures) {
      for (const arm of arms) {
        ctx.onSample(failedSample(ctx, { item: failedRowItem(spec, failure), arm }, new Error(failure.reason)));
      }
    }

    const total = items.length * arms.length;
    let done = 0;
    let failed = 0;
    for (const arm of arms) {
      if (arm.prepare) await arm.prepare(items.filter((i) => i.images.length > 0), (f) => ctx.images.get(f));
    }
    for (const bundle of planBundles(items, arms)) {
      const out = await executeBundle(bundle, ctx);
      done += out.length;
      failed += out.filter((s) => s.status === 'failed').length;
      options.onProgress?.({ done, total, failed, arm: bundle.tasks[0]?.arm.id ?? '', elapsedMs: Date.now() - started });
    }
  } finally {
    await pool.close();
  }
  return { run, samples, wallMs: Date.now() - started, loadFailures: failures.length };
}
