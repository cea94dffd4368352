import { readEnvironment } from '../../src/core/environment.js';
import { ensureLlamaBinaries, type LlamaBinaries } from '../../src/models/llama/llama-build.js';

/** Long enough for the one-time llama-server build (about 8 minutes on 2 cores). */
export const BUILD_TIMEOUT_MS = 20 * 60_000;

/**
 * The llama-server the integration tests use: LLAMA_SERVER_BIN, else the cached build, else it is
 * built now (once; later runs find it in the cache), exactly as `perceive setup` does.
 */
export async function llamaBinaries(): Promise<LlamaBinaries> {
  return ensureLlamaBinaries(readEnvironment(), (e) => {
    if (e.stage === 'configure') process.stderr.write('building llama-server for the integration tests (once, about 8 minutes)…\n');
  });
}
