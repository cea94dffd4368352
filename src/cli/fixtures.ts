import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readEnvironment } from '../core/environment.js';
import { writeDemoFixtures } from '../fixtures/demo-fixtures.js';
import { CLIP_SHAPES, writeShapeClip, type ClipShapeName } from '../fixtures/shape-clip.js';
import { DEFAULT_SHAPE_LAYERS, LLAVA_SHAPES, writeShapeLlava } from '../fixtures/shape-llava.js';
import { PerceiveError } from '../core/errors.js';
import { findLlamaBinaries } from '../models/llama/llama-build.js';
import { FIXTURE_VOCABS, type FixtureVocabName } from '../fixtures/tiny-llava.js';

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('the seed must be an integer from 0 to 4294967295');
  return n;
}

function parseLayers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('--layers must be an integer from 1 to 64');
  return n;
}

const SHAPES: readonly string[] = [...LLAVA_SHAPES, ...CLIP_SHAPES];

function parseShape(value: string): string {
  if (!SHAPES.includes(value)) throw new InvalidArgumentError(`unknown shape; one of: ${SHAPES.join(', ')}`);
  return value;
}

function parseVocab(value: string): FixtureVocabName {
  if (!(FIXTURE_VOCABS as readonly string[]).includes(value)) throw new InvalidArgumentError(`unknown vocabulary; one of: ${FIXTURE_VOCABS.join(', ')}`);
  return value as FixtureVocabName;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function writeShape(opts: { out: string; seed: number; shape: string; layers: number; keepF16?: boolean; vocab: FixtureVocabName }): Promise<void> {
  const started = Date.now();
  const dir = path.resolve(opts.out);
  if ((CLIP_SHAPES as readonly string[]).includes(opts.shape)) {
    if (opts.vocab !== 'tiny')
      throw new PerceiveError('bad-argument', `--vocab ${opts.vocab} is for the LLaVA models; ${opts.shape} has CLIP's own vocabulary`);
    const r = await writeShapeClip(dir, { shape: opts.shape as ClipShapeName, seed: opts.seed, layers: opts.layers });
    process.stdout.write(`${opts.shape} shape CLIP folder (seed ${opts.seed}, ${opts.layers} layers per tower) in ${r.dir}, ${Date.now() - started} ms\n`);
    return;
  }
  const bins = findLlamaBinaries(readEnvironment());
  if (!bins?.quantize) {
    throw new PerceiveError('llama-bin-missing', 'the LLaVA shape model is quantised with llama-quantize, which was not found', {
      hint: 'run `perceive setup` first (it builds llama-server and llama-quantize), or set LLAMA_SERVER_BIN to a llama-server with llama-quantize beside it',
    });
  }
  const r = await writeShapeLlava(dir, { seed: opts.seed, layers: opts.layers, quantizeBin: bins.quantize, keepF16: opts.keepF16, vocab: opts.vocab });
  process.stdout.write(
    [
      `${opts.shape} shape pair (seed ${opts.seed}, ${opts.layers} layers per tower, ${opts.vocab === 'llama' ? 'LLaMA' : 'tiny padded'} vocabulary) in ${r.dir}, ${Date.now() - started} ms:`,
      `  text model (Q4_K_M): ${r.model} ${mib(r.bytes.model)}`,
      `  mmproj (F16):        ${r.mmproj} ${mib(r.bytes.mmproj)}`,
      ...(r.f16 && r.bytes.f16 !== undefined ? [`  text model (F16):    ${r.f16} ${mib(r.bytes.f16)}`] : []),
      `  write F16 text ${r.ms.text} ms, mmproj ${r.ms.mmproj} ms, llama-quantize ${r.ms.quantize} ms`,
      '',
    ].join('\n'),
  );
}

export function registerFixtures(program: Command): void {
  program
    .command('fixtures')
    .description(
      'generate the tiny models and the synthetic benchmark (deterministic for a seed): a LLaVA-1.5-style GGUF + mmproj pair, ' +
        "a CLIP folder in the Hugging Face ONNX layout, and a What'sUp Controlled-style image set; " +
        `with --shape, one model at real layer sizes but few layers, for benchmarks (${SHAPES.join(', ')})`,
    )
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <n>', 'seed', parseSeed, 0)
    .option('--shape <name>', `a real-sized "shape" model instead of the tiny set: ${SHAPES.join(', ')}`, parseShape)
    .option('--layers <k>', 'layers per tower of the shape model', parseLayers, DEFAULT_SHAPE_LAYERS)
    .option('--keep-f16', 'keep the F16 text model of a LLaVA shape next to the Q4_K_M one')
    .option(
      '--vocab <name>',
      "the LLaVA text model's vocabulary: tiny (made up; padded to 32,000 for a shape) or llama (LLaMA's real 32,000 SentencePiece pieces, from the dev dependency llama-tokenizer-js)",
      parseVocab,
      'tiny' as FixtureVocabName,
    )
    .action(async (opts: { out: string; seed: number; shape?: string; layers: number; keepF16?: boolean; vocab: FixtureVocabName }) => {
      if (opts.shape) {
        await writeShape({ ...opts, shape: opts.shape });
        return;
      }
      const started = Date.now();
      const f = await writeDemoFixtures(opts.out, { seed: opts.seed, vocab: opts.vocab });
      process.stdout.write(
        [
          `fixtures (seed ${opts.seed}) in ${f.dir}, ${Date.now() - started} ms:`,
          `  LLaVA-style pair: ${f.llava.model}${opts.vocab === 'llama' ? ' (LLaMA vocabulary)' : ''}`,
          `                    ${f.llava.mmproj}`,
          `  ChatML pair:      ${f.chatml.model}`,
          `  CLIP folder:      ${f.clip}`,
          `  SigLIP folder:    ${f.siglip}`,
          `  What'sUp-style:   ${f.whatsup.annotationFile} (${f.whatsup.count} images)`,
          `  MMVP-style:       ${f.mmvp}`,
          `  SugarCrepe-style: ${f.sugarcrepe}`,
          `  Winoground-style: ${f.winoground}`,
          '',
        ].join('\n'),
      );
    });
}
