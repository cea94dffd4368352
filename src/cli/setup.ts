import type { Command } from 'commander';
import { readEnvironment } from '../core/environment.js';
import { setupHostTools } from '../models/host-tools.js';
import { cudaMissing, cudaSearchDirs, findCudaToolkit } from '../models/llama/cuda-toolkit.js';
import { ensureLlamaBinaries, type LlamaBinaries } from '../models/llama/llama-build.js';
import type { HostTools } from '../models/model-kind.js';
import { ProgressLine } from './console-output.js';

/** Finds or builds what the given model kinds need on this host, printing progress. Shared by `setup`, `run` and `demo`. */
export async function setupTools(kinds: Iterable<string>, options: { quiet?: boolean } = {}): Promise<HostTools> {
  const progress = new ProgressLine(options.quiet);
  return setupHostTools(kinds, readEnvironment(), (line, stage) => {
    if (stage === 'done') progress.done(line);
    else progress.update(line, stage === 'note');
  });
}

/** Builds (or finds) llama-server, printing progress (`perceive setup`). */
export async function setupLlama(options: { quiet?: boolean } = {}): Promise<LlamaBinaries> {
  const tools = await setupTools(['llama'], options);
  return tools.get('llama') as LlamaBinaries;
}

/** `perceive setup --cuda`: the CUDA build of llama-server in its own cache folder, or what is missing. */
export async function setupLlamaCuda(options: { quiet?: boolean } = {}): Promise<LlamaBinaries> {
  const progress = new ProgressLine(options.quiet);
  const env = readEnvironment();
  const started = Date.now();
  const bins = await ensureLlamaBinaries(
    env,
    (e) => {
      if (e.stage === 'cuda') progress.update(`llama.cpp CUDA build with ${e.line}`, true);
      else if (e.stage === 'waiting') progress.update(`llama.cpp: ${e.line}`, true);
      else if (e.stage === 'extract') progress.update('llama.cpp: extracting the source bundled with node-llama-cpp…', true);
      else if (e.stage === 'configure')
        progress.update('configuring with GGML_CUDA=ON (CUDA kernels take long to compile: an hour or more on few cores)…', true);
      else if (e.stage === 'build')
        progress.update(`llama.cpp CUDA build ${String(e.percent ?? 0).padStart(3)}% (${Math.round((Date.now() - started) / 1000)}s)`);
      else if (e.stage === 'done') progress.done(`llama.cpp CUDA build done in ${Math.round((Date.now() - started) / 1000)}s`);
    },
    'cuda',
  );
  const missing = cudaMissing(findCudaToolkit(cudaSearchDirs(env), env.cudaHome)).run;
  for (const line of missing) process.stderr.write(`note: ${line}\n`);
  return bins;
}

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'build llama-server and llama-quantize from the llama.cpp source that node-llama-cpp ships, into the cache ' +
        '(PERCEIVE_CACHE_DIR, default ~/.cache/perceive); does nothing when already built; LLAMA_SERVER_BIN uses your own binary instead',
    )
    .option('--quiet', 'no progress output')
    .option(
      '--cuda',
      'build llama-server with CUDA (GGML_CUDA=ON, needs nvcc) into its own cache folder (llama.cpp-<tag>-cuda); says what is missing otherwise',
    )
    .action(async (opts: { quiet?: boolean; cuda?: boolean }) => {
      if (opts.cuda) {
        const bins = await setupLlamaCuda(opts);
        process.stdout.write(
          `llama-server (CUDA): ${bins.server} (llama.cpp ${bins.tag}, ${bins.buildInfo})\nuse it: LLAMA_SERVER_BIN=${bins.server} npx perceive run …\n`,
        );
        return;
      }
      const bins = await setupLlama(opts);
      process.stdout.write(`llama-server: ${bins.server} (${bins.origin === 'env' ? 'LLAMA_SERVER_BIN' : `llama.cpp ${bins.tag}`}, ${bins.buildInfo})\n`);
      if (bins.quantize) process.stdout.write(`llama-quantize: ${bins.quantize}\n`);
    });
}
