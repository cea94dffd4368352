import { PerceiveError } from '../../core/errors.js';
import { filesSha256 } from '../../core/file-hash.js';
import { defineModelKind } from '../model-kind.js';
import { ensureLlamaBinaries, findLlamaBinaries, findLlamaCppSource, type LlamaBinaries } from './llama-build.js';
import { LlamaModelSchema } from './llama-model-spec.js';
import { LlamaRunner } from './llama-runner.js';

/** A llama.cpp VLM (GGUF + mmproj) behind llama-server: the generative capability set. */
export const LLAMA_KIND = defineModelKind({
  kind: 'llama',
  description: 'a llama.cpp VLM (GGUF + mmproj) served by llama-server',
  schema: LlamaModelSchema,
  provides: 'vlm',
  resolvePaths: (spec, resolve) => ({ ...spec, model: resolve(spec.model), mmproj: resolve(spec.mmproj) }),
  files: (spec) => [spec.model, spec.mmproj],
  slots: (spec) => spec.slots,
  /** `servers` llama-servers per worker; one when LLAMA_SERVER_URL attaches to a running server (nothing is started). */
  instances: (spec, env) => (env.llamaServerUrl ? 1 : spec.servers),
  describe: (spec) => ({ servers: spec.servers }),
  /** sha256 over the GGUF pair (memoised in the cache dir). */
  async hash(spec, env) {
    try {
      return await filesSha256([spec.model, spec.mmproj], env.cacheDir);
    } catch (error) {
      throw new PerceiveError('model-not-found', `model files not found: ${(error as Error).message}`, {
        hint: 'check the path in the config (paths are relative to the config file)',
      });
    }
  },
  /** llama-server is not needed when LLAMA_SERVER_URL attaches to a running one. */
  findTools: (env) => (env.llamaServerUrl ? null : findLlamaBinaries(env)),
  async setupTools(env, progress) {
    if (env.llamaServerUrl) return null;
    const started = Date.now();
    const seconds = (): number => Math.round((Date.now() - started) / 1000);
    return ensureLlamaBinaries(env, (e) => {
      if (e.stage === 'waiting') progress(`llama.cpp: ${e.line}`, 'note');
      else if (e.stage === 'extract') progress('llama.cpp: extracting the source bundled with node-llama-cpp…', 'note');
      else if (e.stage === 'configure')
        progress(
          `llama.cpp ${findLlamaCppSource().tag}: building llama-server and llama-quantize into ${env.cacheDir} (about 8 minutes on 2 cores, once)…`,
          'note',
        );
      else if (e.stage === 'build') progress(`llama.cpp build ${String(e.percent ?? 0).padStart(3)}% (${seconds()}s)`, 'progress');
      else if (e.stage === 'done') progress(`llama.cpp built in ${seconds()}s`, 'done');
    });
  },
  describeTools(tools) {
    const b = tools as LlamaBinaries | null | undefined;
    return { llama_cpp: b ? { tag: b.tag, build_info: b.buildInfo, origin: b.origin, server: b.server } : null };
  },
  async start(name, spec, { env, tools, logDir, log, instance }) {
    const binaries = (tools.get('llama') as LlamaBinaries | null | undefined) ?? findLlamaBinaries(env);
    // Several servers per worker: one log each, numbered from 0.
    const logFile = `${logDir}/llama-server.${name}.${process.pid}${instance && instance.count > 1 ? `.${instance.index}` : ''}.log`;
    const runner = await LlamaRunner.start(spec, {
      env,
      binaries,
      logFile,
      // A restart is logged with why the old server ended (exit code or signal, its last lines).
      onRestart: (r) =>
        log?.warn(
          {
            model: name,
            server: instance?.index ?? 0,
            code: r.exit?.code ?? null,
            signal: r.exit?.signal ?? null,
            restarts: r.restarts,
            logTail: r.exit?.logTail ?? '',
            serverLog: logFile,
          },
          'llama-server restarted',
        ),
    });
    return { capabilities: runner, slots: spec.slots, close: () => runner.stop() };
  },
});
