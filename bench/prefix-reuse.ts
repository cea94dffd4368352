/**
 * Prefix reuse: K prompt variants (llama arms) per image over M images. Every /completion call
 * with an image is recorded with llama-server's timings (cache_n, prompt_n); a call is an image
 * prefill when some of the image's tokens were evaluated rather than taken from the slot's cache
 * (bench/support/prefill-counter.ts). The ideal is one prefill per unique (image, model).
 *
 * - perceive: runExperiment in-process (`--queue inline`: the same plan, bundles and executor as a
 *   queue worker, so the calls can be seen here), bundles in plan order (all prompts of an image together);
 * - peers: each prompt its own job in arrival order, variant-major (every image for variant 1,
 *   then every image for variant 2, …), straight to one llama-server with cache_prompt, through
 *   the same arms (identical requests).
 * Each side runs with llama-server's RAM prompt cache at its default (`--cache-ram` 8192 MiB)
 * and with `--cache-ram 0`, for two variant sets (below). Ratio = perceive prefills / ideal for the
 * shared-prefix set with --cache-ram 0, target exactly 1.
 *
 *   npx tsx bench/prefix-reuse.ts [--small] [--images M] [--model GGUF --mmproj GGUF]
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchmarkFamily } from '../src/benchmarks/registry.js';
import { type LoadedConfig, loadExperimentConfig } from '../src/config/experiment.js';
import { readEnvironment } from '../src/core/environment.js';
import { type LoadedImage, loadImage } from '../src/core/image.js';
import type { Item } from '../src/core/item.js';
import { runExperiment } from '../src/run/run-experiment.js';
import { ModelRuntime } from '../src/execution/model-runtime.js';
import { ensureLlamaBinaries } from '../src/models/llama/llama-build.js';
import { MEDIA_MARKER } from '../src/models/llama/llama-client.js';
import { argValue, benchFixtures, isSmall, ratioLine, tempDir, whatsupBenchmarks, writeConfig } from './support/bench-setup.js';
import { PrefillCounter } from './support/prefill-counter.js';
import { hostTools } from '../src/models/host-tools.js';

// A fixed media marker, so the counter can find the image in every prompt.
process.env.LLAMA_MEDIA_MARKER = MEDIA_MARKER;
const env = { ...readEnvironment(), llamaServerUrl: undefined };
const binaries = await ensureLlamaBinaries(env);
const fixtures = await benchFixtures();
const images = Number(argValue('images', isSmall() ? '2' : '8'));
const model = path.resolve(argValue('model', fixtures.llava.model));
const mmproj = path.resolve(argValue('mmproj', fixtures.llava.mmproj));
const dir = tempDir('prefix-reuse');
// What'sUp rows are one image each: M items = M images.
const benchmarks = await whatsupBenchmarks(images);
// K = 3 variants in two sets. `shared`: LLaVA's llava_v1 conversation, so the text before the
// image is the same for all three (the ideal is reachable). `mixed`: VQAScore's t2v_metrics
// system message differs from llava_v1's ("curious user" vs "curious human") before the image, so
// no server can reuse the image's KV across them: the least possible is one prefill per
// (image, text before it).
const variantSets: Record<string, Array<Record<string, unknown>>> = {
  shared: [
    { arm: 'vlm.mcq', model: 'llava' },
    { arm: 'vlm.mcq', model: 'llava', option_style: 'lmms-eval', label: 'vlm.mcq.lmms' },
    { arm: 'vlm.generate', model: 'llava', max_tokens: 4 },
  ],
  mixed: [
    { arm: 'vlm.vqascore', model: 'llava' },
    { arm: 'vlm.mcq', model: 'llava' },
    { arm: 'vlm.generate', model: 'llava', max_tokens: 4 },
  ],
};
let arms = variantSets.shared!;

const counter = new PrefillCounter(MEDIA_MARKER);
counter.install();

function config(name: string, serverArgs: string[]): LoadedConfig {
  return loadExperimentConfig(
    writeConfig(dir, `${name}.yaml`, {
      name,
      benchmarks,
      models: { llava: { kind: 'llama', model, mmproj, context_size: 4096, slots: 1, threads: 2, server_args: serverArgs } },
      arms,
      baseline: String(arms[0]!.label ?? arms[0]!.arm),
    }),
  );
}

async function perceiveSide(serverArgs: string[], name: string): Promise<ReturnType<PrefillCounter['summary']>> {
  counter.reset();
  const result = await runExperiment(config(name, serverArgs), env, hostTools({ llama: binaries }), { queue: 'inline', runId: name });
  const failed = result.samples.filter((s) => s.status !== 'ok');
  if (failed.length > 0) throw new Error(`${failed.length} tasks failed: ${JSON.stringify(failed[0])}`);
  return counter.summary();
}

async function peerSide(serverArgs: string[], name: string): Promise<ReturnType<PrefillCounter['summary']>> {
  const { config: c } = config(name, serverArgs);
  const items: Item[] = [];
  for (const spec of c.benchmarks) items.push(...(await benchmarkFamily(spec.format).load(spec)).items);
  const cache = new Map<string, Promise<LoadedImage>>();
  const imageOf = (p: string): Promise<LoadedImage> => {
    let img = cache.get(p);
    if (!img) cache.set(p, (img = loadImage(p)));
    return img;
  };
  const runtime = await ModelRuntime.start('llava', c.models.llava!, env, hostTools({ llama: binaries }), dir);
  counter.reset();
  try {
    for (const spec of c.arms) {
      const arm = runtime.arm(spec);
      if (arm.prepare) await arm.prepare(items, imageOf);
      for (const item of items) await arm.score(item, await Promise.all(item.images.map(imageOf)));
    }
  } finally {
    await runtime.close();
  }
  return counter.summary();
}

type Summary = ReturnType<PrefillCounter['summary']>;
const rows: Array<{ set: string; side: string; cacheRam: string; s: Summary }> = [];
for (const [set, list] of Object.entries(variantSets)) {
  arms = list;
  console.log(
    `${set}: model ${path.basename(model)} + ${path.basename(mmproj)}; ${images} images × ${arms.length} prompt variants (${arms.map((a) => a.label ?? a.arm).join(', ')})`,
  );
  for (const [cacheRam, args] of [
    ['default', []],
    ['0', ['--cache-ram', '0']],
  ] as const) {
    rows.push({ set, side: 'perceive run (bundled)', cacheRam, s: await perceiveSide([...args], `${set}-perceive-ram-${cacheRam}`) });
    rows.push({ set, side: 'peers (variant-major jobs)', cacheRam, s: await peerSide([...args], `${set}-peers-ram-${cacheRam}`) });
  }
}
for (const r of rows) {
  console.log(
    `${r.set.padEnd(6)} ${r.side.padEnd(28)} --cache-ram ${r.cacheRam.padEnd(7)}: ${r.s.calls} image calls, ${r.s.prefills} image prefills; ideal ${r.s.ideal} (${(r.s.prefills / r.s.ideal).toFixed(2)}×), per (image, text before it) ${r.s.idealPerPrefix} (${(r.s.prefills / r.s.idealPerPrefix).toFixed(2)}×)`,
  );
}
counter.uninstall();
fs.rmSync(dir, { recursive: true, force: true });
const pick = (set: string, side: string): Summary => rows.find((r) => r.set === set && r.side.startsWith(side) && r.cacheRam === '0')!.s;
const mine = pick('shared', 'perceive');
const peers = pick('shared', 'peers');
const mixed = pick('mixed', 'perceive');
const ratio = mine.prefills / mine.ideal;
console.log(
  ratioLine(
    `prefix-reuse (perceive image prefills / ideal, shared-prefix variants, --cache-ram 0; peers ${(peers.prefills / peers.ideal).toFixed(2)}; mixed set ${mixed.prefills}/${mixed.ideal} = ${(mixed.prefills / mixed.idealPerPrefix).toFixed(2)}× its per-prefix least)`,
    ratio,
    '= 1 exactly',
    mine.prefills === mine.ideal,
  ),
);
