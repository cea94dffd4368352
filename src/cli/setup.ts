import type { Command } from 'commander';
import { readEnvironment } from '../core/environment.js';
import { setupHostTools } from '../models/host-tools.js';
import type { LlamaBinaries } from '../models/llama/llama-build.js';
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
