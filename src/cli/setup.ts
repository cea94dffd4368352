import type { Command } from 'commander';
import { readEnvironment } from '../config/environment.js';
import { type BuildProgress, ensureLlamaBinaries, findLlamaCppSource } from '../runners/llama/llama-build.js';
import type { LlamaBinaries } from '../runners/llama/llama-build.js';
import { ProgressLine } from './console-output.js';

/** Builds (or finds) llama-server, printing progress. Shared by `setup`, `run` and `demo`. */
export async function setupLlama(options: { quiet?: boolean } = {}): Promise<LlamaBinaries> {
  const env = readEnvironment();
  const progress = new ProgressLine(options.quiet);
  const started = Date.now();
  const onProgress: BuildProgress = (e) => {
    if (e.stage === 'present') return;
    if (e.stage === 'extract') progress.update('llama.cpp: extracting the source bundled with node-llama-cpp…', true);
    else if (e.stage === 'configure') {
      const src = findLlamaCppSource();
      progress.update(`llama.cpp ${src.tag}: building llama-server and llama-quantize into ${env.cacheDir} (about 8 minutes on 2 cores, once)…`, true);
    } else if (e.stage === 'build') progress.update(`llama.cpp build ${String(e.percent ?? 0).padStart(3)}% (${Math.round((Date.now() - started) / 1000)}s)`);
    else if (e.stage === 'done') progress.done(`llama.cpp built in ${Math.round((Date.now() - started) / 1000)}s`);
  };
  return ensureLlamaBinaries(env, onProgress);
}

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'build llama-server and llama-quantize from the llama.cpp source that node-llama-cpp ships, into the cache ' +
        '(PERCEIVE_CACHE_DIR, default ~/.cache/perceive); does nothing when already built; LLAMA_SERVER_BIN uses your own binary instead',
    )
    .option('--quiet', 'no progress output')
    .action(async (opts: { quiet?: boolean }) => {
      const bins = await setupLlama(opts);
      process.stdout.write(`llama-server: ${bins.server} (${bins.origin === 'env' ? 'LLAMA_SERVER_BIN' : `llama.cpp ${bins.tag}`}, ${bins.buildInfo})\n`);
      if (bins.quantize) process.stdout.write(`llama-quantize: ${bins.quantize}\n`);
    });
}
