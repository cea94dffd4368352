import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/core/environment.js';
import { cudaMissing, cudaSearchDirs, findCudaToolkit, parseDriverVersion, parseNvccRelease } from '../../src/models/llama/cuda-toolkit.js';
import { cmakeFlags, llamaBuildDir } from '../../src/models/llama/llama-build.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-cuda-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the CUDA build of llama-server', () => {
  it('adds GGML_CUDA=ON, the nvcc found and the architectures given to the portable CPU flags', () => {
    const cpu = cmakeFlags('cpu');
    expect(cpu).toContain('-DGGML_NATIVE=OFF');
    expect(cpu.some((f) => f.includes('CUDA'))).toBe(false);
    expect(cmakeFlags('cuda', { nvcc: '/usr/local/cuda-13.0/bin/nvcc', architectures: '86;89' })).toEqual([
      ...cpu,
      '-DGGML_CUDA=ON',
      '-DCMAKE_CUDA_COMPILER=/usr/local/cuda-13.0/bin/nvcc',
      '-DCMAKE_CUDA_ARCHITECTURES=86;89',
    ]);
    expect(cmakeFlags('cuda')).toEqual([...cpu, '-DGGML_CUDA=ON']);
  });

  it('builds into its own cache folder beside the CPU build', () => {
    const env = { ...readEnvironment(), cacheDir: '/cache' };
    expect(llamaBuildDir(env, 'b1234')).toBe('/cache/llama.cpp-b1234');
    expect(llamaBuildDir(env, 'b1234', 'cuda')).toBe('/cache/llama.cpp-b1234-cuda');
  });

  it('looks for nvcc in CUDA_HOME/bin, then PATH, then /usr/local/cuda/bin', () => {
    expect(cudaSearchDirs({ cudaHome: '/opt/cuda', searchPath: ['/usr/bin', '/bin'] })).toEqual(['/opt/cuda/bin', '/usr/bin', '/bin', '/usr/local/cuda/bin']);
    expect(cudaSearchDirs({ cudaHome: undefined, searchPath: [] })).toEqual(['/usr/local/cuda/bin']);
    expect(readEnvironment({ CUDA_PATH: '/c', PATH: '/a:/b' })).toMatchObject({ cudaHome: '/c', searchPath: ['/a', '/b'] });
    expect(readEnvironment({ CUDA_HOME: '/h', CUDA_PATH: '/c' }).cudaHome).toBe('/h');
  });

  it('reads the toolkit release and the driver version', () => {
    expect(parseNvccRelease('Cuda compilation tools, release 13.0, V13.0.88\nBuild cuda_13.0.r13.0/compiler.36424714_0')).toBe('13.0');
    expect(parseNvccRelease('nothing')).toBeUndefined();
    expect(parseDriverVersion('NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 23 10:00:00 UTC 2025')).toBe('580.95.05');
  });

  it('finds an nvcc in the given folders, its release and root, and says when cuBLAS is not installed', () => {
    const root = path.join(dir, 'cuda');
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(path.join(root, 'include'));
    fs.writeFileSync(path.join(root, 'include', 'cuda_runtime.h'), '');
    fs.writeFileSync(path.join(bin, 'nvcc'), '#!/bin/sh\necho "Cuda compilation tools, release 12.4, V12.4.131"\n', { mode: 0o755 });
    const t = findCudaToolkit([path.join(dir, 'empty'), bin]);
    expect(t).toMatchObject({ nvcc: path.join(bin, 'nvcc'), version: '12.4', root, cublas: false });
    expect(cudaMissing(t).build).toEqual([
      `cuBLAS is not installed with CUDA 12.4 (no ${root}/include/cublas_v2.h); llama.cpp's CUDA backend links it: install libcublas-dev-12-4 (NVIDIA's apt repository) or the full toolkit`,
    ]);
    fs.writeFileSync(path.join(root, 'include', 'cublas_v2.h'), '');
    expect(cudaMissing(findCudaToolkit([bin])).build).toEqual([]);
  });

  it("finds this machine's toolkit when it has one (nvcc may be a wrapper outside the toolkit)", () => {
    const t = findCudaToolkit(cudaSearchDirs(readEnvironment()), readEnvironment().cudaHome);
    if (!t.nvcc) return; // no CUDA here
    expect(t.version).toMatch(/^\d+\.\d+$/);
    expect(t.root && fs.existsSync(path.join(t.root, 'include', 'cuda_runtime.h'))).toBe(true);
  });

  it('says what is missing when there is no nvcc, and that a host without the driver cannot use the GPU', () => {
    const none = findCudaToolkit([path.join(dir, 'nowhere')]);
    expect(none.nvcc).toBeUndefined();
    expect(none.version).toBeUndefined();
    const missing = cudaMissing({ nvcc: undefined, version: undefined, root: undefined, cublas: false, driver: undefined });
    expect(missing.build).toEqual([
      "nvcc (the CUDA toolkit) was not found in CUDA_HOME/bin, PATH or /usr/local/cuda/bin: install the CUDA toolkit (12.x or 13.x, NVIDIA's installer or `sudo apt-get install nvidia-cuda-toolkit`) and set CUDA_HOME to it",
    ]);
    expect(missing.run).toHaveLength(1);
    expect(missing.run[0]).toMatch(/^no NVIDIA driver/);
    expect(cudaMissing({ nvcc: '/x/nvcc', version: undefined, root: undefined, cublas: false, driver: '580.95.05' })).toEqual({
      build: ['/x/nvcc --version printed no CUDA release: a broken toolkit; reinstall it or point CUDA_HOME at another'],
      run: [],
    });
    expect(cudaMissing({ nvcc: '/x/nvcc', version: '13.0', root: '/x', cublas: true, driver: '580.95.05' })).toEqual({ build: [], run: [] });
    expect(cudaMissing({ nvcc: '/x/bin/nvcc', version: '13.0', root: undefined, cublas: false, driver: undefined }).build).toEqual([
      "no include/cuda_runtime.h in CUDA_HOME, above /x/bin/nvcc or in /usr/local/cuda: set CUDA_HOME to the CUDA 13.0 toolkit's folder",
    ]);
  });
});
