import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { PerceiveError } from './errors.js';

/**
 * The environment perceive reads. This file is the only reader of process.env.
 */
const EnvironmentSchema = z.object({
  PERCEIVE_CACHE_DIR: z.string().min(1).optional(),
  XDG_CACHE_HOME: z.string().min(1).optional(),
  LLAMA_SERVER_BIN: z.string().min(1).optional(),
  LLAMA_SERVER_URL: z.url().optional(),
  PERCEIVE_DATA_DIR: z.string().min(1).optional(),
  REDIS_URL: z.string().min(1).optional(),
  PERCEIVE_DASHBOARD_AUTH: z.string().min(1).optional(),
  PERCEIVE_THREADS: z.coerce.number().int().positive().optional(),
  PERCEIVE_TEST_TASK_DELAY_MS: z.coerce.number().int().nonnegative().optional(),
  CI: z.string().optional(),
  CUDA_HOME: z.string().min(1).optional(),
  CUDA_PATH: z.string().min(1).optional(),
  PERCEIVE_CUDA_ARCHITECTURES: z
    .string()
    .regex(/^[0-9a-z;-]+$/i, 'a CMake CUDA architecture list, e.g. 86;89 or native')
    .optional(),
  PATH: z.string().optional(),
});

export interface Environment {
  /** Where perceive keeps builds and generated fixtures between runs (outside any repo). */
  cacheDir: string;
  /** A user's own llama-server binary (e.g. a CUDA build), used instead of the cached build. */
  llamaServerBin: string | undefined;
  /** An already running llama-server to use instead of spawning one. */
  llamaServerUrl: string | undefined;
  dataDir: string | undefined;
  redisUrl: string;
  /** PERCEIVE_DASHBOARD_AUTH (`user:password`): basic auth of `perceive dashboard`. */
  dashboardAuth: string | undefined;
  /** Threads per model process; default: the number of cores. */
  threads: number;
  /** Test-only: a worker sleeps this long before each task, so tests can kill processes mid-run. */
  taskDelayMs: number;
  ci: boolean;
  /** CUDA_HOME (else CUDA_PATH): the CUDA toolkit `perceive setup --cuda` builds with. */
  cudaHome: string | undefined;
  /** PERCEIVE_CUDA_ARCHITECTURES: CMAKE_CUDA_ARCHITECTURES of the CUDA build (default: llama.cpp's choice). */
  cudaArchitectures: string | undefined;
  /** PATH's folders (where `nvcc` is looked for). */
  searchPath: string[];
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const parsed = EnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PerceiveError('bad-environment', `environment variable ${String(issue?.path[0])}: ${issue?.message ?? 'invalid'}`);
  }
  const e = parsed.data;
  const cacheRoot = e.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return {
    cacheDir: path.resolve(e.PERCEIVE_CACHE_DIR ?? path.join(cacheRoot, 'perceive')),
    llamaServerBin: e.LLAMA_SERVER_BIN ? path.resolve(e.LLAMA_SERVER_BIN) : undefined,
    llamaServerUrl: e.LLAMA_SERVER_URL,
    dataDir: e.PERCEIVE_DATA_DIR ? path.resolve(e.PERCEIVE_DATA_DIR) : undefined,
    redisUrl: e.REDIS_URL ?? 'redis://127.0.0.1:6379',
    dashboardAuth: e.PERCEIVE_DASHBOARD_AUTH,
    threads: e.PERCEIVE_THREADS ?? Math.max(1, os.availableParallelism()),
    taskDelayMs: e.PERCEIVE_TEST_TASK_DELAY_MS ?? 0,
    ci: e.CI === 'true' || e.CI === '1',
    cudaHome: e.CUDA_HOME ?? e.CUDA_PATH,
    cudaArchitectures: e.PERCEIVE_CUDA_ARCHITECTURES,
    searchPath: (e.PATH ?? '').split(path.delimiter).filter((d) => d !== ''),
  };
}
