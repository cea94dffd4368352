import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchmarkFamily } from '../benchmarks/registry.js';
import type { LoadedConfig, ModelSpec } from '../config/experiment.js';
import { type CheckVerdict, verdict } from '../core/check-verdict.js';
import { diskSpaceVerdict, estimateRunBytes, freeBytes } from '../core/disk-space.js';
import type { Environment } from '../core/environment.js';
import { errorMessage, isPerceiveError } from '../core/errors.js';
import { fileSha256, MEMO_MIN_BYTES, memoisedSha256 } from '../core/file-hash.js';
import { redactCredentials, redactUrl } from '../core/redact-url.js';
import { connectRedis } from '../execution/bullmq/bundle-queue.js';
import { checkEvictionPolicy, REQUIRED_EVICTION_POLICY } from '../execution/bullmq/redis-policy.js';
import { coreBudgetVerdict } from '../execution/core-budget.js';
import { ModelRuntime, runtimeCount } from '../execution/model-runtime.js';
import type { QueueMode } from './run-experiment.js';
import { findHostTools, describeHostTools } from '../models/host-tools.js';
import { modelKind } from '../models/registry.js';
import { checksumVerdict, modelKey, readPreviousHashes } from './previous-hashes.js';

export interface DoctorOptions {
  /** As `perceive run --queue`: auto (the queue when Redis answers), redis, inline. */
  queue?: QueueMode;
  /** Local workers per model, as `perceive run --workers`. */
  workers?: number;
  /** Each model's start is given this long (default 300 s: a 7B GGUF loads in well under that). */
  startTimeoutMs?: number;
  /** Hash every model and data file now, however large (default: files up to 256 MB, or memoised). */
  hashAll?: boolean;
  /** Skip starting the models (the quick checks only). */
  noStart?: boolean;
}

/** Models larger than this (not yet memoised) are left "not yet hashed" unless --hash. */
const HASH_NOW_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Says before a long run whether it will work: Redis and its eviction policy, llama-server and each
 * configured model starting, every model and data file present with its checksum status, disk
 * space for the store and report, cores against threads and workers. Verdicts are yielded as they
 * are found (a model's start takes a while); nothing is written but the hash memo.
 */
export async function* diagnose(loaded: LoadedConfig, env: Environment, options: DoctorOptions = {}): AsyncGenerator<CheckVerdict> {
  const { config } = loaded;
  const workers = options.workers ?? 1;
  const queue: QueueMode = workers === 0 ? 'redis' : (options.queue ?? 'auto');
  yield* redisChecks(env, queue);

  const previous = readPreviousHashes(config.output);
  const usedModels = [...new Set(config.arms.map((a) => a.model))];
  const modelsOk = new Set<string>();
  for (const name of usedModels) {
    const spec = config.models[name]!;
    const v = await modelFilesVerdict(name, spec, env, previous, options.hashAll ?? false);
    if (v.status !== 'error') modelsOk.add(name);
    yield v;
  }

  let samples = 0;
  for (const b of config.benchmarks) {
    const found = await benchmarkVerdicts(b, previous, env);
    samples += found.items * config.arms.length;
    yield* found.verdicts;
  }

  const free = freeBytes(config.output);
  yield diskSpaceVerdict({ dir: free.checked, free: free.bytes, needed: estimateRunBytes(samples) });

  const cores = os.availableParallelism();
  if (workers === 0) yield verdict('ok', 'cores', 'no local workers (--workers 0): run perceive doctor on each worker host too');
  for (const name of workers === 0 ? [] : usedModels) {
    const threads = (config.models[name] as { threads?: number }).threads ?? env.threads;
    yield coreBudgetVerdict({ model: name, workers, servers: runtimeCount(config.models[name]!, env), threads, cores });
  }

  const kinds = usedModels.map((n) => config.models[n]!.kind);
  let tools = new Map<string, unknown>();
  let toolsOk = true;
  try {
    tools = new Map(findHostTools(kinds, env));
  } catch (error) {
    toolsOk = false;
    yield verdict('error', 'host tools', errorMessage(error), isPerceiveError(error) ? error.hint : undefined);
  }
  if (kinds.includes('llama') && toolsOk) yield llamaServerVerdict(env, tools);
  if (options.noStart) return;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-doctor-'));
  let keepLogs = false;
  for (const name of usedModels) {
    if (!modelsOk.has(name)) {
      yield verdict('error', `start ${name}`, `not started: see model ${name} above`);
      continue;
    }
    const spec = config.models[name]!;
    // A kind that needs host tools (llama-server) and has none here cannot start.
    if (modelKind(spec.kind).setupTools && !tools.has(spec.kind)) {
      yield verdict('error', `start ${name}`, `not started: the ${spec.kind} kind's host tools are missing (see above)`);
      continue;
    }
    const v = await startVerdict(name, spec, env, tools, logDir, options.startTimeoutMs ?? 300_000);
    if (v.status !== 'ok') keepLogs = true;
    yield v;
  }
  if (!keepLogs) fs.rmSync(logDir, { recursive: true, force: true });
}

async function* redisChecks(env: Environment, queue: QueueMode): AsyncGenerator<CheckVerdict> {
  const where = redactUrl(env.redisUrl);
  if (queue === 'inline') {
    yield verdict('ok', 'redis', 'not used (--queue inline: the run computes in-process)');
    return;
  }
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  try {
    redis = await connectRedis(env.redisUrl, { probe: true });
    const info = (await redis.info('server').catch(() => '')) as string;
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    yield verdict('ok', 'redis', `reachable at ${where}${version ? ` (Redis ${version})` : ''}`);
    yield evictionPolicyVerdict((await checkEvictionPolicy(redis)).policy);
  } catch (error) {
    const message = redactCredentials(errorMessage(error));
    const auth = isPerceiveError(error) && error.code === 'redis-auth-failed';
    if (queue === 'redis' || auth) {
      yield verdict('error', 'redis', message, isPerceiveError(error) ? error.hint : undefined);
    } else {
      yield verdict(
        'warning',
        'redis',
        `${message}: the run will compute in-process (no workers on other hosts)`,
        'start Redis (redis-server --bind 127.0.0.1) or set REDIS_URL to use the queue',
      );
    }
  } finally {
    redis?.disconnect();
  }
}

/** Every file of a model present, and its checksum status. */
async function modelFilesVerdict(
  name: string,
  spec: ModelSpec,
  env: Environment,
  previous: ReturnType<typeof readPreviousHashes>,
  hashAll: boolean,
): Promise<CheckVerdict> {
  const kind = modelKind(spec.kind);
  const files = kind.files(spec);
  const subject = `model ${name}`;
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    return verdict('error', subject, `missing: ${missing.join(', ')}`, 'fix the path in the config (paths are relative to the config file)');
  }
  let unhashed = 0;
  for (const f of files.flatMap(listFiles)) {
    const size = fs.statSync(f).size;
    if (size > MEMO_MIN_BYTES && memoisedSha256(f, env.cacheDir) === undefined) unhashed += size;
  }
  const prev = previous ? { runId: previous.runId, hash: previous.models.get(modelKey(spec.kind, files)) } : undefined;
  if (unhashed > HASH_NOW_MAX_BYTES && !hashAll) return checksumVerdict({ subject, hash: undefined, unhashedBytes: unhashed, previous: prev });
  try {
    return checksumVerdict({ subject, hash: await kind.hash(spec, env), previous: prev });
  } catch (error) {
    return verdict('error', subject, errorMessage(error), isPerceiveError(error) ? error.hint : undefined);
  }
}

/** A path's regular files (a model folder's, recursively). */
function listFiles(p: string): string[] {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return [p];
  return fs.readdirSync(p).flatMap((e) => listFiles(path.join(p, e)));
}

/** The benchmark's files: annotations (checksum), data_dir, extra files, every item's images. */
async function benchmarkVerdicts(
  b: LoadedConfig['config']['benchmarks'][number],
  previous: ReturnType<typeof readPreviousHashes>,
  env: Environment,
): Promise<{ items: number; verdicts: CheckVerdict[] }> {
  const subject = `data ${b.name}`;
  const out: CheckVerdict[] = [];
  const missing = [b.annotations, b.data_dir, ...Object.values(b.extra_files)].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    out.push(verdict('error', subject, `missing: ${missing.join(', ')}`, 'fix the path in the config (paths are relative to the config file)'));
    return { items: 0, verdicts: out };
  }
  const hash = await fileSha256(b.annotations, env.cacheDir).catch(() => undefined);
  const prev = previous ? { runId: previous.runId, hash: previous.annotations.get(path.resolve(b.annotations)) } : undefined;
  out.push(checksumVerdict({ subject, label: path.basename(b.annotations), hash, previous: prev }));
  let items = 0;
  try {
    const set = await benchmarkFamily(b.format).load(b);
    items = set.items.length + set.failures.length;
    const images = new Set(set.items.flatMap((i) => i.images));
    const absent = [...images].filter((f) => !fs.existsSync(f));
    const what = `${set.items.length} items, ${images.size} images`;
    if (absent.length > 0) {
      out.push(
        verdict(
          'warning',
          subject,
          `${what}; ${absent.length} images missing (${absent.slice(0, 3).join(', ')}${absent.length > 3 ? ', …' : ''}): their items fail as bad-image`,
          `check data_dir (${b.data_dir}); \`perceive data check\` lists every file`,
        ),
      );
    } else if (set.failures.length > 0) {
      const first = set.failures[0]!;
      out.push(
        verdict(
          'warning',
          subject,
          `${what}; ${set.failures.length} rows fail to load (first: ${first.reason}): they are recorded as bad-row`,
          'fix the rows, or accept them as failed',
        ),
      );
    } else out.push(verdict('ok', subject, `${what}, all present`));
  } catch (error) {
    out.push(verdict('error', subject, errorMessage(error), isPerceiveError(error) ? error.hint : undefined));
  }
  return { items, verdicts: out };
}

function llamaServerVerdict(env: Environment, tools: ReadonlyMap<string, unknown>): CheckVerdict {
  if (env.llamaServerUrl) return verdict('ok', 'llama-server', `LLAMA_SERVER_URL=${redactUrl(env.llamaServerUrl)} (an already running server)`);
  const described = describeHostTools(new Map([['llama', tools.get('llama')]])).llama_cpp as {
    server: string;
    build_info: string;
    tag: string;
    origin: string;
  } | null;
  if (!described) return verdict('error', 'llama-server', 'not built', 'run `npx perceive setup` (about 8 minutes on 2 cores, once) or set LLAMA_SERVER_BIN');
  return verdict(
    'ok',
    'llama-server',
    `${described.server} (${described.origin === 'env' ? 'LLAMA_SERVER_BIN' : `llama.cpp ${described.tag}`}, build ${described.build_info})`,
  );
}

/**
 * Starts one model as a worker would, every one of its runtimes at once (llama's `servers`: that
 * many llama-servers until /health; an ONNX folder's sessions), then stops them: a host that can
 * hold one server but not the configured four is found here, not an hour into the run
 * (`ModelRuntime.startAll`, the worker's own start).
 */
async function startVerdict(
  name: string,
  spec: ModelSpec,
  env: Environment,
  tools: ReadonlyMap<string, unknown>,
  logDir: string,
  timeoutMs: number,
): Promise<CheckVerdict> {
  const subject = `start ${name}`;
  const t0 = Date.now();
  const count = runtimeCount(spec, env);
  const starting = ModelRuntime.startAll(name, spec, env, tools, logDir);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const started = await Promise.race([starting, timedOut]);
    if (started === 'timeout') {
      // Stopped as soon as it does start.
      starting.then((all) => Promise.allSettled(all.map((m) => m.close()))).catch(() => {});
      return verdict(
        'error',
        subject,
        `did not start within ${Math.round(timeoutMs / 1000)} s (logs: ${logDir})`,
        'check the model files and the log; a slow disk needs --start-timeout',
      );
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    await Promise.all(started.map((m) => m.close()));
    const slots = started[0]?.slots ?? 0;
    const servers = count > 1 ? `${count} servers together, ` : '';
    const described = Object.entries(modelKind(spec.kind).describe?.(spec) ?? {}).filter(([k]) => k === 'provider');
    const extra = described.map(([k, v]) => `, ${k} ${String(v)}`).join('');
    return verdict(
      'ok',
      subject,
      `${spec.kind} model started in ${seconds} s (${servers}${slots} slot${slots === 1 ? '' : 's'}${count > 1 ? ' each' : ''}${extra}) and stopped`,
    );
  } catch (error) {
    return verdict('error', subject, `${errorMessage(error)} (logs: ${logDir})`, isPerceiveError(error) ? error.hint : undefined);
  } finally {
    clearTimeout(timer);
  }
}

/** The doctor's line for Redis's `maxmemory-policy` (read by redis-policy.ts; undefined: unreadable). */
export function evictionPolicyVerdict(policy: string | undefined): CheckVerdict {
  const fix = `set \`maxmemory-policy ${REQUIRED_EVICTION_POLICY}\` (redis.conf, or CONFIG SET maxmemory-policy ${REQUIRED_EVICTION_POLICY}): BullMQ needs it`;
  if (policy === undefined)
    return verdict('warning', 'redis policy', 'maxmemory-policy unknown (INFO memory did not say)', `check with your Redis provider; ${fix}`);
  if (policy === REQUIRED_EVICTION_POLICY) return verdict('ok', 'redis policy', `maxmemory-policy ${REQUIRED_EVICTION_POLICY}`);
  return verdict('warning', 'redis policy', `maxmemory-policy ${policy}: a full Redis would evict queued jobs`, fix);
}
