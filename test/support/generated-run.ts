import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../src/core/seeded-random.js';
import type { Sample } from '../../src/store/sample.js';

/**
 * A run directory of generated samples, no model: `items` What'sUp-style items (sets of 4, four
 * caption options, the first correct) spread over `benchmarks` benchmark entries, answered by
 * `arms` arms (`clip` the baseline, right 45 % of the time; then `vlm.vqascore`, `vlm.mcq`, … right
 * 50–75 % of the time), about 1 % failed
 * samples. Item i shows image i mod `images`: `images` distinct small JPEGs (each a different
 * colour), written under `imageDir` once, with their real sha256. Deterministic for a seed.
 */
export interface GeneratedRun {
  dir: string;
  items: number;
  arms: string[];
  benchmarks: string[];
  /** Outcome of (benchmark index, item index within it, arm): right, wrong or failed. */
  outcome: (bench: number, item: number, arm: string) => 'right' | 'wrong' | 'failed';
  imageFiles: string[];
}

const RELATIONS = ['left of', 'right of', 'on', 'under'] as const;
/**
 * Arm ids and kinds as a full suite has them (the kinds decide which prompt variants the summary
 * compares with each other: the two vlm2vec prompts, the two vlm.mcq prompt formats); beyond ten,
 * `vlm.extra<k>` of its own kind.
 */
const ARMS: ReadonlyArray<readonly [string, string]> = [
  ['clip', 'clip'],
  ['vlm.vqascore', 'vlm.vqascore'],
  ['vlm.mcq', 'vlm.mcq'],
  ['vlm.generate', 'vlm.generate'],
  ['vlm.contrast', 'vlm.contrast'],
  ['vlm.two-image', 'vlm.two-image'],
  ['vlm2vec.question', 'vlm2vec.question'],
  ['vlm2vec.plain', 'vlm2vec.plain'],
  ['siglip', 'clip'],
  ['vlm.mcq+model', 'vlm.mcq'],
];
const PREPOSITIONS = ['left_of', 'right_of', 'on', 'under'] as const;
const SLOTS = ['left', 'right', 'on', 'under'] as const;

export async function writeGeneratedImages(imageDir: string, count: number, size = 64): Promise<Array<{ path: string; sha256: string }>> {
  fs.mkdirSync(imageDir, { recursive: true });
  const out: Array<{ path: string; sha256: string }> = new Array(count);
  for (let k = 0; k < count; k += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, count - k) }, async (_, j) => {
        const i = k + j;
        const file = path.join(imageDir, `img-${size}-${i}.jpg`);
        if (!fs.existsSync(file)) {
          const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 173 + Math.floor(i / 256)) % 256 };
          const buf = await sharp({ create: { width: size, height: size, channels: 3, background } })
            .jpeg({ quality: 80 })
            .toBuffer();
          fs.writeFileSync(`${file}.tmp`, buf);
          fs.renameSync(`${file}.tmp`, file);
        }
        out[i] = { path: file, sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
      }),
    );
  }
  return out;
}

export async function writeGeneratedRun(
  dir: string,
  o: { items: number; arms: number; benchmarks: number; images: number; imageDir: string; seed?: number; imageSize?: number },
): Promise<GeneratedRun> {
  const images = await writeGeneratedImages(o.imageDir, o.images, o.imageSize);
  const arms = Array.from({ length: o.arms }, (_, k) => ARMS[k]?.[0] ?? `vlm.extra${k}`);
  const kinds = new Map(arms.map((arm, k) => [arm, ARMS[k]?.[1] ?? arm]));
  const benchmarks = Array.from({ length: o.benchmarks }, (_, k) => `whatsup.gen${k + 1}`);
  const perBench = benchmarks.map((_, k) => Math.floor(o.items / o.benchmarks) + (k < o.items % o.benchmarks ? 1 : 0));
  const seed = o.seed ?? 1;
  // Outcomes drawn per (benchmark, item, arm) from one seeded stream, kept for the tests' expectations.
  const table = new Map<string, Uint8Array>();
  for (const [a, arm] of arms.entries()) {
    const rand = mulberry32(seed * 1000 + a);
    const p = arm === 'clip' ? 0.45 : 0.5 + (0.25 * a) / Math.max(1, o.arms - 1);
    const codes = new Uint8Array(o.items);
    for (let i = 0; i < o.items; i++) codes[i] = rand() < 0.01 ? 2 : rand() < p ? 0 : 1;
    table.set(arm, codes);
  }
  const globalIndex = (bench: number, item: number): number => perBench.slice(0, bench).reduce((x, y) => x + y, 0) + item;
  const outcome = (bench: number, item: number, arm: string): 'right' | 'wrong' | 'failed' =>
    (['right', 'wrong', 'failed'] as const)[table.get(arm)![globalIndex(bench, item)]!]!;
  fs.mkdirSync(dir, { recursive: true });
  const runId = path.basename(dir);
  fs.writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      run_id: runId,
      created_at: '2026-11-30T00:00:00.000Z',
      perceive: { version: '0.0.0', commit: null },
      llama_cpp: null,
      models: [
        { name: 'clip', kind: 'clip', files: ['/m/clip'], hash: 'c'.repeat(64), fixture: true },
        { name: 'llava', kind: 'llama', files: ['/m/a.gguf', '/m/b.gguf'], hash: 'l'.repeat(64), fixture: true },
      ],
      arms: arms.map((arm) => ({ arm, model: arm === 'clip' ? 'clip' : 'llava', prompt: null })),
      datasets: benchmarks.map((name, k) => ({
        name,
        format: 'whatsup-controlled',
        annotations: '/data/a.json',
        annotations_sha256: null,
        items: perBench[k],
      })),
      config: { baseline: 'clip', benchmarks: benchmarks.map((name) => ({ name, format: 'whatsup-controlled', subset: 'controlled_a' })) },
    }),
  );
  const fd = fs.openSync(path.join(dir, 'samples.jsonl'), 'w');
  let chunk = '';
  const rand = mulberry32(seed);
  for (const arm of arms) {
    for (const [b, benchmark] of benchmarks.entries()) {
      for (let i = 0; i < perBench[b]!; i++) {
        const g = globalIndex(b, i);
        const k = Math.floor(i / 4);
        const slot = i % 4;
        const result = outcome(b, i, arm);
        const right = result === 'right';
        const others = [rand() * 0.8, rand() * 0.8, rand() * 0.8];
        const row = right ? [0.9, ...others] : [rand() * 0.5, 0.95, others[1]!, others[2]!];
        const sample: Sample = {
          run_id: runId,
          task: `${arm}-${g}`,
          item: `${benchmark}/${i}`,
          benchmark,
          subset: 'controlled_a',
          arm,
          arm_kind: kinds.get(arm)!,
          model: arm === 'clip' ? 'clip' : 'llava',
          model_hash: (arm === 'clip' ? 'c' : 'l').repeat(64),
          prompt: null,
          images: [images[g % images.length]!],
          options: RELATIONS.map((_, j) => `object ${k} ${RELATIONS[(slot + j) % 4]} thing ${k}`),
          correct_option: 0,
          status: result === 'failed' ? 'failed' : 'ok',
          scores: result === 'failed' ? null : [row],
          prediction: result === 'failed' ? null : right ? 0 : 1,
          correct: result === 'failed' ? null : right,
          extra: {},
          error: result === 'failed' ? { code: 'server-error', message: 'generated failure' } : null,
          latency_ms: 10,
          timings: null,
          groups: {
            variant: 'A',
            preposition: PREPOSITIONS[slot]!,
            set: `o${k}|t${k}`,
            slot: SLOTS[slot]!,
            pair: `o${k}|t${k}|${slot < 2 ? 'left-right' : 'on-under'}`,
            convention: 'whatsup_vlms',
          },
          source: { file: '/data/a.json', row: i },
          finished_at: '2026-11-30T00:00:00.000Z',
        };
        chunk += `${JSON.stringify(sample)}\n`;
        if (chunk.length > 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = '';
        }
      }
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return { dir, items: o.items, arms, benchmarks, outcome, imageFiles: images.map((x) => x.path) };
}
