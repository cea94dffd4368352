import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { writeDemoFixtures } from '../fixtures/demo-fixtures.js';

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('the seed must be an integer from 0 to 4294967295');
  return n;
}

export function registerFixtures(program: Command): void {
  program
    .command('fixtures')
    .description(
      'generate the tiny models and the synthetic benchmark (deterministic for a seed): a LLaVA-1.5-style GGUF + mmproj pair, ' +
        "a CLIP folder in the Hugging Face ONNX layout, and a What'sUp Controlled-style image set",
    )
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <n>', 'seed', parseSeed, 0)
    .action(async (opts: { out: string; seed: number }) => {
      const started = Date.now();
      const f = await writeDemoFixtures(opts.out, { seed: opts.seed });
      process.stdout.write(
        [
          `fixtures (seed ${opts.seed}) in ${f.dir}, ${Date.now() - started} ms:`,
          `  LLaVA-style pair: ${f.llava.model}`,
          `                    ${f.llava.mmproj}`,
          `  CLIP folder:      ${f.clip}`,
          `  What'sUp-style:   ${f.whatsup.annotationFile} (${f.whatsup.count} images)`,
          '',
        ].join('\n'),
      );
    });
}
