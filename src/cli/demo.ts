import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadExperimentConfig } from '../config/experiment.js';
import { writeDemoFixtures } from '../fixtures/demo-fixtures.js';
import { formatDuration } from './console-output.js';
import { printSummary, runConfig } from './run.js';
import { setupLlama } from './setup.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DEMO_CONFIG = path.join(ROOT, 'configs', 'demo.yaml');
export const DEMO_FIXTURES = path.join(ROOT, '.fixtures');

const REAL_MODELS = `
These numbers come from TINY RANDOM MODELS generated on this machine: they are chance level
by construction and say nothing about LLaVA or CLIP. The demo shows the real path end to end
(llama-server + onnxruntime on GGUF and ONNX files, the benchmark authors' loader and metric).

To run real models, copy configs/demo.yaml and point it at real files:
  models:
    llava: { kind: llama, model: /models/llava-v1.5-7b-Q4_K_M.gguf, mmproj: /models/llava-v1.5-7b-mmproj-f16.gguf }
    clip:  { kind: clip,  path: /models/clip-vit-large-patch14-336 }   # HF ONNX layout (onnx/text_model.onnx, onnx/vision_model.onnx)
  benchmarks:
    - { name: whatsup.controlled_a, format: whatsup-controlled, subset: controlled_a,
        annotations: /data/whatsup_vlms/data/controlled_images_dataset.json, data_dir: /data/whatsup_vlms }
then: npx perceive run --config my.yaml     (see README.md, "Real models and data")
`;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'end to end on the embedded defaults: build llama-server if needed, generate the tiny models and the synthetic benchmark if needed, run configs/demo.yaml',
    )
    .option('--run-id <id>', 'name of the run directory')
    .option('--quiet', 'plain, sparse output')
    .action(async (opts: { runId?: string; quiet?: boolean }) => {
      const started = Date.now();
      await setupLlama(opts.quiet === undefined ? {} : { quiet: opts.quiet });
      const loaded = loadExperimentConfig(DEMO_CONFIG);
      const f = await writeDemoFixtures(DEMO_FIXTURES, { seed: loaded.config.seed, ifNeeded: true });
      process.stderr.write(f.generated ? `generated the tiny models and the synthetic benchmark in ${f.dir}\n` : `using the fixtures in ${f.dir}\n`);
      const r = await runConfig(loaded, { ...opts, build: false });
      process.stdout.write('\n');
      printSummary(r.summary);
      process.stdout.write(REAL_MODELS);
      process.stdout.write(
        `\ndemo finished in ${formatDuration(Date.now() - started)} (run ${formatDuration(r.wallMs)})\nresults: ${r.dir}\nreport:  ${r.reportFile}\n`,
      );
    });
}
