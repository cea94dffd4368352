/**
 * Overhead of the orchestrator: the same N items × arms through `perceive run` (runExperiment,
 * the queue on the real Redis, one local worker per model) against a plain script that sends the
 * same requests straight to llama-server and onnxruntime one after another, through the project's
 * own runners and arms (ModelRuntime.start + arm.score, so every request is identical). Both
 * sides include loading the items and starting the models; each perceive run gets a fresh
 * results store and a unique queue prefix. Ratio = perceive wall / plain wall, target ≤ 1.03.
 *
 * Two measurements: the llama arm alone (one model, one worker: no parallelism on either side),
 * then clip + llama (perceive runs the two models' workers at the same time, the plain script
 * one after the other). The last line prints the llama-only ratio, the orchestrator's overhead.
 *
 *   npx tsx bench/overhead.ts [--small] [--items N] [--repeats R] [--llama-only] [--keep] [--model GGUF --mmproj GGUF]
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LoadedImage } from '../src/core/image.js';
import { loadImage } from '../src/core/image.js';
import type { Item } from '../src/core/item.js';
import { benchmarkFamily } from '../src/benchmarks/registry.js';
import { type LoadedConfig, loadExperimentConfig } from '../src/config/experiment.js';
import { readEnvironment } from '../src/core/environment.js';
import { runExperiment } from '../src/run/run-experiment.js';
import { ModelRuntime } from '../src/execution/model-runtime.js';
import { ensureLlamaBinaries, type LlamaBinaries } from '../src/models/llama/llama-build.js';
import {
  argValue,
  benchFixtures,
  compiledCli,
  dropPrefix,
  isSmall,
  ratioLine,
  tempDir,
  uniquePrefix,
  whatsupBenchmarks,
  writeConfig,
} from './support/bench-setup.js';
import { spreadText } from './support/spread.js';
import { hostTools } from '../src/models/host-tools.js';

const env = readEnvironment();
const binaries = await ensureLlamaBinaries(env);
const fixtures = await benchFixtures();
const small = isSmall();
const items = Number(argValue('items', small ? '4' : '384'));
// A second, smaller size for the llama arm: the difference of the two gives the per-item cost of
// each side (the slope) apart from the fixed start-up cost (the intercept).
const fewer = Math.max(1, Math.floor(items / 4));
const repeats = Number(argValue('repeats', small ? '1' : '3'));
const dir = tempDir('overhead');
// The local workers run the compiled CLI, as `npx perceive run` (an installed perceive) runs them.
const workerEntry = compiledCli();
let benchmarks = await whatsupBenchmarks(items);
// `--model GGUF --mmproj GGUF`: another pair (e.g. a `perceive fixtures --shape llava-1.5-7b` pair,
// whose tasks cost what real LLaVA-7B layers cost, per layer) instead of the tiny one.
const llamaModel = path.resolve(argValue('model', fixtures.llava.model));
const llamaMmproj = path.resolve(argValue('mmproj', fixtures.llava.mmproj));
const models = {
  llava: { kind: 'llama', model: llamaModel, mmproj: llamaMmproj, context_size: 2048, slots: 1, threads: 2 },
  clip: { kind: 'clip', path: fixtures.clip, threads: 2 },
};

let serial = 0;
function config(name: string, arms: Array<Record<string, unknown>>): LoadedConfig {
  const prefix = uniquePrefix(`overhead${serial++}`);
  // A fresh output folder (fresh store) per measurement: nothing is reused from an earlier run.
  return loadExperimentConfig(writeConfig(dir, `${name}-${serial}.yaml`, { name, benchmarks, models, arms, queue: { prefix } }));
}

async function perceiveRun(loaded: LoadedConfig): Promise<{ ms: number; ok: number; total: number }> {
  try {
    const t0 = performance.now();
    const result = await runExperiment(loaded, env, hostTools({ llama: binaries }), { queue: 'redis', workers: 1, runId: 'overhead', workerEntry });
    const ms = performance.now() - t0;
    if (result.computed !== result.samples.length) throw new Error(`expected every task computed, got ${result.computed} of ${result.samples.length}`);
    return { ms, ok: result.samples.filter((s) => s.status === 'ok').length, total: result.samples.length };
  } finally {
    await dropPrefix(loaded.config.queue.prefix);
  }
}

/** The same work with no queue, store or bundles: models started, then every arm's requests in order. */
async function plainRun(loaded: LoadedConfig, b: LlamaBinaries): Promise<{ ms: number; ok: number; total: number }> {
  const { config } = loaded;
  const t0 = performance.now();
  const all: Item[] = [];
  for (const spec of config.benchmarks) all.push(...(await benchmarkFamily(spec.format).load(spec)).items);
  const used = [...new Set(config.arms.map((a) => a.model))];
  const runtimes = new Map(
    await Promise.all(used.map(async (m) => [m, await ModelRuntime.start(m, config.models[m]!, env, hostTools({ llama: b }), dir)] as const)),
  );
  const images = new Map<string, Promise<LoadedImage>>();
  const imageOf = (p: string): Promise<LoadedImage> => {
    let img = images.get(p);
    if (!img) images.set(p, (img = loadImage(p)));
    return img;
  };
  let ok = 0;
  let total = 0;
  try {
    for (const spec of config.arms) {
      const arm = runtimes.get(spec.model)!.arm(spec);
      if (arm.prepare) await arm.prepare(all, imageOf);
      for (const item of all) {
        total++;
        const out = await arm.score(item, await Promise.all(item.images.map(imageOf)));
        if (out.scores.length > 0) ok++;
      }
    }
  } finally {
    await Promise.all([...runtimes.values()].map((r) => r.close()));
  }
  return { ms: performance.now() - t0, ok, total };
}

const cases: Array<{ name: string; n: number; arms: Array<Record<string, unknown>> }> = [
  {
    name: 'both',
    n: items,
    arms: [
      { arm: 'clip', model: 'clip' },
      { arm: 'vlm.vqascore', model: 'llava' },
    ],
  },
  { name: 'llama-fewer', n: fewer, arms: [{ arm: 'vlm.vqascore', model: 'llava' }] },
  { name: 'llama', n: items, arms: [{ arm: 'vlm.vqascore', model: 'llava' }] },
];
// `--llama-only`: skip the clip + vqascore case (quicker; the printed ratio is the llama one anyway).
if (process.argv.includes('--llama-only')) cases.shift();
const ratios = new Map<string, number>();
const walls = new Map<string, { perceive: number; plain: number }>();
const spreads = new Map<string, string>();
for (const c of cases) {
  benchmarks = await whatsupBenchmarks(c.n);
  // Alternating plain, perceive, plain, perceive, …: each side's time is the best of its R runs
  // (the least disturbed: on 2 cores llama-server's threads and every process share the CPU).
  const plainRuns: Array<{ ms: number; ok: number; total: number }> = [];
  const perceiveRuns: Array<{ ms: number; ok: number; total: number }> = [];
  for (let k = 0; k < repeats; k++) {
    plainRuns.push(await plainRun(config(`plain-${c.name}`, c.arms), binaries));
    perceiveRuns.push(await perceiveRun(config(`perceive-${c.name}`, c.arms)));
  }
  const p1 = plainRuns[0]!;
  const plain = Math.min(...plainRuns.map((r) => r.ms));
  const q = perceiveRuns.reduce((a, b) => (b.ms < a.ms ? b : a));
  const ratio = q.ms / plain;
  ratios.set(c.name, ratio);
  // Each repeat's ratio (perceive run k / plain run k, run back to back): the spread beside the best.
  spreads.set(c.name, spreadText(perceiveRuns.map((r, k) => r.ms / plainRuns[k]!.ms)));
  walls.set(c.name, { perceive: q.ms, plain });
  const list = (runs: Array<{ ms: number }>): string => runs.map((r) => (r.ms / 1000).toFixed(2)).join(' / ');
  console.log(
    `${c.name} (${c.arms.map((a) => a.arm).join(' + ')}), ${c.n} items: perceive run ${list(perceiveRuns)} s (${q.ok}/${q.total} ok); plain ${list(plainRuns)} s (${p1.ok}/${p1.total} ok); ratio of the best ${ratio.toFixed(3)}; per repeat ${spreads.get(c.name)}`,
  );
}
// `--keep`: leave the temp folder (run logs, stores) for inspection.
if (process.argv.includes('--keep')) console.log(`kept ${dir}`);
else fs.rmSync(dir, { recursive: true, force: true });
const big = walls.get('llama')!;
const low = walls.get('llama-fewer')!;
const slope = (big.perceive - low.perceive) / (big.plain - low.plain);
const perceiveFixed = big.perceive - ((big.perceive - low.perceive) / (items - fewer)) * items;
const plainFixed = big.plain - ((big.plain - low.plain) / (items - fewer)) * items;
console.log(
  `vlm.vqascore per item: perceive ${((big.perceive - low.perceive) / (items - fewer)).toFixed(0)} ms, plain ${((big.plain - low.plain) / (items - fewer)).toFixed(0)} ms (marginal ratio ${slope.toFixed(3)}); fixed cost: perceive ${(perceiveFixed / 1000).toFixed(2)} s, plain ${(plainFixed / 1000).toFixed(2)} s`,
);
const r = ratios.get('llama')!;
console.log(
  ratioLine(
    `overhead (perceive run / plain script, vlm.vqascore on ${path.basename(llamaModel)}, ${items} items, best / best; per repeat ${spreads.get('llama')}; marginal per item ${slope.toFixed(3)}; clip + vqascore ${ratios.get('both')?.toFixed(3) ?? 'not run'})`,
    r,
    '≤ 1.03',
    r <= 1.03,
  ),
);
