import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Environment } from '../../core/environment.js';

/**
 * What a CUDA build of llama-server needs on this host: `nvcc` (the CUDA toolkit: the compiler,
 * the runtime headers and libraries) to build, and an NVIDIA driver to run on a GPU. Found, never
 * installed.
 */
export interface CudaToolkit {
  /** The nvcc binary, if any. */
  nvcc: string | undefined;
  /** The toolkit's release, from `nvcc --version` ("13.0"). */
  version: string | undefined;
  /** The toolkit's root (holding include/cuda_runtime.h), if found. */
  root: string | undefined;
  /** Whether cuBLAS's headers are there (llama.cpp's CUDA backend links cuBLAS). */
  cublas: boolean;
  /** The NVIDIA driver's version (nvidia-smi, else /proc/driver/nvidia/version), if any. */
  driver: string | undefined;
}

/** Where nvcc is looked for, in order: CUDA_HOME/bin (or CUDA_PATH), PATH, /usr/local/cuda/bin. */
export function cudaSearchDirs(env: Pick<Environment, 'cudaHome' | 'searchPath'>): string[] {
  return [...(env.cudaHome ? [path.join(env.cudaHome, 'bin')] : []), ...env.searchPath, '/usr/local/cuda/bin'];
}

/** `nvcc --version`'s "release 13.0, V13.0.88" → "13.0". */
export function parseNvccRelease(text: string): string | undefined {
  return /release (\d+\.\d+)/.exec(text)?.[1];
}

/** `/proc/driver/nvidia/version`'s "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05 …" → "580.95.05". */
export function parseDriverVersion(text: string): string | undefined {
  return /Kernel Module\s+(\d+(?:\.\d+)+)/.exec(text)?.[1];
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The toolkit's root: CUDA_HOME, else the folder above nvcc's bin/, else /usr/local/cuda; the first
 * holding include/cuda_runtime.h (nvcc may be a wrapper script elsewhere, e.g. /usr/local/bin).
 */
export function cudaRoot(nvcc: string | undefined, cudaHome: string | undefined): string | undefined {
  const candidates = [cudaHome, nvcc ? path.dirname(path.dirname(fs.realpathSync(nvcc))) : undefined, '/usr/local/cuda'];
  return candidates.find((c): c is string => c !== undefined && fs.existsSync(path.join(c, 'include', 'cuda_runtime.h')));
}

/** The toolkit in the given folders (root: `cudaRoot`) and the host's driver. */
export function findCudaToolkit(dirs: readonly string[], cudaHome?: string): CudaToolkit {
  const nvcc = dirs.map((d) => path.join(d, 'nvcc')).find(executable);
  const root = cudaRoot(nvcc, cudaHome);
  const cublas = root !== undefined && fs.existsSync(path.join(root, 'include', 'cublas_v2.h'));
  const version = nvcc ? parseNvccRelease(spawnSync(nvcc, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '') : undefined;
  let driver: string | undefined;
  const smi = spawnSync('nvidia-smi', ['--query-gpu=driver_version', '--format=csv,noheader'], { encoding: 'utf8', timeout: 30_000 });
  if (smi.status === 0) driver = smi.stdout.trim().split('\n')[0]?.trim() || undefined;
  if (!driver) {
    try {
      driver = parseDriverVersion(fs.readFileSync('/proc/driver/nvidia/version', 'utf8'));
    } catch {
      /* no driver loaded */
    }
  }
  return { nvcc, version, root, cublas, driver };
}

/** What is missing to build (nvcc) and to run (the driver), each with what to do; empty when nothing. */
export function cudaMissing(toolkit: CudaToolkit): { build: string[]; run: string[] } {
  const build: string[] = [];
  const run: string[] = [];
  if (!toolkit.nvcc) {
    build.push(
      "nvcc (the CUDA toolkit) was not found in CUDA_HOME/bin, PATH or /usr/local/cuda/bin: install the CUDA toolkit (12.x or 13.x, NVIDIA's installer or `sudo apt-get install nvidia-cuda-toolkit`) and set CUDA_HOME to it",
    );
  } else if (!toolkit.version) {
    build.push(`${toolkit.nvcc} --version printed no CUDA release: a broken toolkit; reinstall it or point CUDA_HOME at another`);
  } else if (!toolkit.root) {
    build.push(
      `no include/cuda_runtime.h in CUDA_HOME, above ${toolkit.nvcc} or in /usr/local/cuda: set CUDA_HOME to the CUDA ${toolkit.version} toolkit's folder`,
    );
  } else if (!toolkit.cublas) {
    const [major, minor] = toolkit.version.split('.');
    build.push(
      `cuBLAS is not installed with CUDA ${toolkit.version} (no ${path.join(toolkit.root, 'include', 'cublas_v2.h')}); llama.cpp's CUDA backend links it: install libcublas-dev-${major}-${minor} (NVIDIA's apt repository) or the full toolkit`,
    );
  }
  if (!toolkit.driver) {
    run.push('no NVIDIA driver (nvidia-smi, /proc/driver/nvidia/version): the build works, but llama-server only uses a GPU on a host with the driver loaded');
  }
  return { build, run };
}
