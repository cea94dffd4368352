import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import type { Environment } from '../../core/environment.js';
import { errorMessage, PerceiveError } from '../../core/errors.js';
import { cudaMissing, cudaSearchDirs, findCudaToolkit } from './cuda-toolkit.js';
import { withBuildLock } from './llama-build-lock.js';

/**
 * Builds llama-server and llama-quantize from the llama.cpp source that the installed
 * node-llama-cpp package ships (a git bundle), into a cache directory outside the repo,
 * keyed by the llama.cpp tag. The flags (CMAKE_FLAGS below) make a portable CPU build
 * (no -march=native), with no UI download and no OpenSSL.
 */

export interface LlamaCppSource {
  tag: string;
  bundle: string;
  packageVersion: string;
}

export interface LlamaBinaries {
  server: string;
  quantize: string | undefined;
  /** 'cache' (built by perceive) or 'env' (LLAMA_SERVER_BIN). */
  origin: 'cache' | 'env';
  tag: string;
  buildInfo: string;
}

const CMAKE_FLAGS = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DGGML_NATIVE=OFF',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_BUILD_TOOLS=ON',
  '-DLLAMA_BUILD_SERVER=ON',
  '-DLLAMA_BUILD_APP=OFF',
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_OPENSSL=OFF',
];

const TARGETS = ['llama-server', 'llama-quantize'];

/** A CPU build (the default, portable) or a CUDA build (`perceive setup --cuda`), each in its own cache folder. */
export type LlamaBuildVariant = 'cpu' | 'cuda';

/**
 * The cmake configure flags of a variant. CUDA adds `GGML_CUDA=ON` with the nvcc found (the CPU
 * flags stay: portable CPU code for the layers left on the CPU), and the architectures when given
 * (PERCEIVE_CUDA_ARCHITECTURES; else llama.cpp's own default list, or `native` for this GPU).
 */
export function cmakeFlags(variant: LlamaBuildVariant, cuda: { nvcc?: string | undefined; architectures?: string | undefined } = {}): string[] {
  if (variant === 'cpu') return [...CMAKE_FLAGS];
  return [
    ...CMAKE_FLAGS,
    '-DGGML_CUDA=ON',
    ...(cuda.nvcc ? [`-DCMAKE_CUDA_COMPILER=${cuda.nvcc}`] : []),
    ...(cuda.architectures ? [`-DCMAKE_CUDA_ARCHITECTURES=${cuda.architectures}`] : []),
  ];
}

const InfoSchema = z.object({ tag: z.string().min(1) });

/** Locates the llama.cpp bundle inside the installed node-llama-cpp package. */
export function findLlamaCppSource(): LlamaCppSource {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('node-llama-cpp');
  } catch (error) {
    throw new PerceiveError('llama-source-missing', 'the node-llama-cpp package is not installed', {
      hint: 'run `npm ci` in the perceive directory',
      cause: error,
    });
  }
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'llama', 'llama.cpp.info.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new PerceiveError('llama-source-missing', `no llama/llama.cpp.info.json above ${entry}`);
    }
    dir = parent;
  }
  const infoFile = path.join(dir, 'llama', 'llama.cpp.info.json');
  const info = InfoSchema.parse(JSON.parse(fs.readFileSync(infoFile, 'utf8')));
  const pkg = z.object({ version: z.string() }).parse(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')));
  const bundle = path.join(dir, 'llama', 'gitRelease.bundle');
  if (!fs.existsSync(bundle)) {
    throw new PerceiveError('llama-source-missing', `the llama.cpp source bundle is missing: ${bundle}`);
  }
  return { tag: info.tag, bundle, packageVersion: pkg.version };
}

/** `$PERCEIVE_CACHE_DIR/llama.cpp-<tag>` (CPU) or `…/llama.cpp-<tag>-cuda`. */
export function llamaBuildDir(env: Environment, tag: string, variant: LlamaBuildVariant = 'cpu'): string {
  return path.join(env.cacheDir, `llama.cpp-${tag}${variant === 'cpu' ? '' : `-${variant}`}`);
}

function cachedBinaries(env: Environment, tag: string, variant: LlamaBuildVariant = 'cpu'): { server: string; quantize: string } {
  const bin = path.join(llamaBuildDir(env, tag, variant), 'bin');
  return { server: path.join(bin, 'llama-server'), quantize: path.join(bin, 'llama-quantize') };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `llama-server --version` prints e.g. "version: 1 (de3ff81)"; recorded in manifests. */
export function binaryBuildInfo(bin: string): string {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const text = `${out.stdout ?? ''}${out.stderr ?? ''}`;
  const line = text.split('\n').find((l) => l.startsWith('version:'));
  return line ? line.replace('version:', '').trim() : 'unknown';
}

/** Where llama-server (and llama-quantize beside it) is, whether or not it exists yet. */
export interface LlamaServerLocation {
  server: string;
  quantize: string;
  origin: 'cache' | 'env';
  tag: string;
}

/**
 * The one place that decides where the llama-server binary is, for the CLI, the tests and the
 * error hints: LLAMA_SERVER_BIN when set, else what `perceive setup` builds,
 * `$PERCEIVE_CACHE_DIR/llama.cpp-<tag>/bin/llama-server` (default cache ~/.cache/perceive).
 */
export function llamaServerLocation(env: Environment): LlamaServerLocation {
  if (env.llamaServerBin) {
    return { server: env.llamaServerBin, quantize: path.join(path.dirname(env.llamaServerBin), 'llama-quantize'), origin: 'env', tag: 'user' };
  }
  const tag = findLlamaCppSource().tag;
  return { ...cachedBinaries(env, tag), origin: 'cache', tag };
}

/** What to do when llama-server is not where `llamaServerLocation` says. */
export function llamaServerMissingHint(env: Environment): string {
  const where = llamaServerLocation(env);
  return where.origin === 'env'
    ? `LLAMA_SERVER_BIN=${where.server} is not an executable file: point it at a llama-server binary, or unset it and run \`npx perceive setup\``
    : `run \`npx perceive setup\` (it builds ${where.server}; PERCEIVE_CACHE_DIR moves the cache) or set LLAMA_SERVER_BIN`;
}

/** The binaries to use, without building: LLAMA_SERVER_BIN, else the cache; undefined if neither. */
export function findLlamaBinaries(env: Environment): LlamaBinaries | undefined {
  const where = llamaServerLocation(env);
  if (where.origin === 'env') {
    if (!isExecutable(where.server)) {
      throw new PerceiveError('llama-bin-missing', `LLAMA_SERVER_BIN=${where.server} is not an executable file`);
    }
    return { ...where, quantize: isExecutable(where.quantize) ? where.quantize : undefined, buildInfo: binaryBuildInfo(where.server) };
  }
  if (isExecutable(where.server) && isExecutable(where.quantize)) {
    return { ...where, buildInfo: binaryBuildInfo(where.server) };
  }
  return undefined;
}

function requireTool(command: string, args: string[], install: string): void {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new PerceiveError('build-tool-missing', `building llama-server needs \`${command}\`, which was not found`, {
      hint: `install it, e.g. on Debian/Ubuntu: sudo apt-get install ${install}`,
    });
  }
}

export type BuildProgress = (event: { stage: string; percent?: number; line?: string }) => void;

function runStep(command: string, args: string[], options: { cwd: string; logFile: string; onLine?: (line: string) => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = fs.createWriteStream(options.logFile, { flags: 'a' });
    log.write(`\n$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = (): void => {
      child.kill('SIGTERM');
    };
    process.once('exit', kill);
    let tail: string[] = [];
    let pending = '';
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail = tail.slice(-40);
        options.onLine?.(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => {
      process.removeListener('exit', kill);
      log.end();
      reject(new PerceiveError('build-failed', `could not start ${command}: ${errorMessage(error)}`));
    });
    child.on('close', (code, signal) => {
      process.removeListener('exit', kill);
      log.end();
      if (code === 0) resolve();
      else
        reject(
          new PerceiveError(
            'build-failed',
            `${command} ${args.slice(0, 3).join(' ')} … failed (${signal ?? `exit ${code}`}); last lines:\n${tail.join('\n')}`,
            { hint: `full log: ${options.logFile}` },
          ),
        );
    });
  });
}

/**
 * Ensures llama-server and llama-quantize exist: honours LLAMA_SERVER_BIN, else builds into the
 * cache (about 8 minutes on 2 cores). Does nothing when the binaries are already there. The
 * `cuda` variant (`perceive setup --cuda`) builds with `GGML_CUDA=ON` into its own folder
 * (`llama.cpp-<tag>-cuda`), needs nvcc and says what is missing otherwise; LLAMA_SERVER_BIN then
 * points a run at it.
 */
export async function ensureLlamaBinaries(env: Environment, onProgress: BuildProgress = () => {}, variant: LlamaBuildVariant = 'cpu'): Promise<LlamaBinaries> {
  const source = variant === 'cpu' ? undefined : findLlamaCppSource();
  const found = source ? cachedVariant(env, source.tag, variant) : findLlamaBinaries(env);
  if (found) {
    onProgress({ stage: 'present' });
    return found;
  }
  let flags = cmakeFlags('cpu');
  if (variant === 'cuda') {
    const toolkit = findCudaToolkit(cudaSearchDirs(env), env.cudaHome);
    const missing = cudaMissing(toolkit).build;
    if (missing.length > 0) throw new PerceiveError('cuda-missing', `perceive setup --cuda cannot build: ${missing.join('; ')}`, { hint: CUDA_HINT });
    onProgress({
      stage: 'cuda',
      line: `CUDA ${toolkit.version} (${toolkit.nvcc})${toolkit.driver ? `, driver ${toolkit.driver}` : ', no NVIDIA driver on this host'}`,
    });
    flags = cmakeFlags('cuda', { nvcc: toolkit.nvcc, architectures: env.cudaArchitectures });
  }
  return buildLlama(env, source ?? findLlamaCppSource(), variant, flags, onProgress);
}

const CUDA_HINT = 'a CPU build needs none of this: `npx perceive setup`; or build llama.cpp with CUDA yourself and set LLAMA_SERVER_BIN';

/** A variant's binaries in the cache, if both are there. */
function cachedVariant(env: Environment, tag: string, variant: LlamaBuildVariant): LlamaBinaries | undefined {
  const bins = cachedBinaries(env, tag, variant);
  if (!isExecutable(bins.server) || !isExecutable(bins.quantize)) return undefined;
  return { ...bins, origin: 'cache', tag, buildInfo: binaryBuildInfo(bins.server) };
}

async function buildLlama(
  env: Environment,
  source: LlamaCppSource,
  variant: LlamaBuildVariant,
  flags: string[],
  onProgress: BuildProgress,
): Promise<LlamaBinaries> {
  requireTool('cmake', ['--version'], 'cmake');
  requireTool('c++', ['--version'], 'g++ (build-essential)');
  requireTool('git', ['--version'], 'git');
  requireTool('make', ['--version'], 'make');

  const root = llamaBuildDir(env, source.tag, variant);
  fs.mkdirSync(root, { recursive: true });
  return withBuildLock(
    root,
    () => onProgress({ stage: 'waiting', line: `another process is building llama.cpp in ${root}; waiting for it` }),
    async () => cachedVariant(env, source.tag, variant) ?? buildInto(root, env, source, variant, flags, onProgress),
  );
}

async function buildInto(
  root: string,
  env: Environment,
  source: LlamaCppSource,
  variant: LlamaBuildVariant,
  flags: string[],
  onProgress: BuildProgress,
): Promise<LlamaBinaries> {
  const logFile = path.join(root, 'build.log');
  const srcDir = path.join(root, 'src');
  const buildDir = path.join(root, 'build');

  if (!fs.existsSync(path.join(srcDir, 'CMakeLists.txt'))) {
    onProgress({ stage: 'extract' });
    fs.rmSync(srcDir, { recursive: true, force: true });
    await runStep('git', ['-c', 'advice.detachedHead=false', 'clone', '-q', source.bundle, srcDir], { cwd: root, logFile });
  }
  onProgress({ stage: 'configure' });
  await runStep('cmake', ['-S', srcDir, '-B', buildDir, ...flags], { cwd: root, logFile });
  onProgress({ stage: 'build', percent: 0 });
  const jobs = String(Math.max(1, env.threads));
  await runStep('cmake', ['--build', buildDir, '-j', jobs, '--target', ...TARGETS], {
    cwd: root,
    logFile,
    onLine: (line) => {
      const m = /^\[\s*(\d+)%\]/.exec(line);
      if (m) onProgress({ stage: 'build', percent: Number(m[1]), line });
    },
  });
  // Publish the binaries atomically: a half-copied file must never look like a finished build.
  const bins = cachedBinaries(env, source.tag, variant);
  fs.mkdirSync(path.dirname(bins.server), { recursive: true });
  for (const name of TARGETS) {
    const from = path.join(buildDir, 'bin', name);
    const to = path.join(path.dirname(bins.server), name);
    fs.copyFileSync(from, `${to}.tmp`);
    fs.chmodSync(`${to}.tmp`, 0o755);
    fs.renameSync(`${to}.tmp`, to);
  }
  onProgress({ stage: 'done' });
  return { ...bins, origin: 'cache', tag: source.tag, buildInfo: binaryBuildInfo(bins.server) };
}
