import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { errorMessage, PerceiveError } from '../../core/errors.js';

/**
 * Which onnxruntime execution provider a contrastive encoder runs on. onnxruntime-node bundles the
 * CPU provider; the CUDA provider (Linux x64) is a separate download its install script fetches
 * only when asked (`ONNXRUNTIME_NODE_INSTALL=cuda12`), into the package's own
 * `bin/napi-v6/linux/x64/` beside the binding. `auto` takes CUDA when those files are there and a
 * session starts on it, else the CPU; `cuda` insists (an error otherwise); `cpu` never tries.
 */
export const OnnxProviderSchema = z.enum(['auto', 'cpu', 'cuda']).default('auto');
export type OnnxProviderSetting = z.output<typeof OnnxProviderSchema>;
export type OnnxProvider = 'cpu' | 'cuda';

const CUDA_LIBRARY: Partial<Record<string, string>> = { linux: 'libonnxruntime_providers_cuda.so', win32: 'onnxruntime_providers_cuda.dll' };

export const CUDA_INSTALL_HINT =
  'reinstall onnxruntime-node with its CUDA provider: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (Linux x64; needs CUDA 12 and cuDNN 9 libraries), or set provider: cpu';

/** The folder holding onnxruntime-node's native binding (and the CUDA provider when installed). */
export function onnxBindingDir(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    return path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** Whether the installed onnxruntime-node has its CUDA provider's library beside the binding. */
export function onnxCudaInstalled(bindingDir = onnxBindingDir()): boolean {
  const lib = CUDA_LIBRARY[process.platform];
  if (!bindingDir || !lib) return false;
  const listed = ort.listSupportedBackends?.().some((b) => b.name === 'cuda') ?? false;
  return listed && fs.existsSync(path.join(bindingDir, lib));
}

/** The provider a setting resolves to, given whether the CUDA provider is installed. */
export function resolveOnnxProvider(setting: OnnxProviderSetting, cudaInstalled: boolean): OnnxProvider {
  if (setting === 'cpu') return 'cpu';
  if (setting === 'cuda' && !cudaInstalled) {
    throw new PerceiveError('onnx-provider-unavailable', 'provider: cuda, but the installed onnxruntime-node has no CUDA provider', {
      hint: CUDA_INSTALL_HINT,
    });
  }
  return cudaInstalled ? 'cuda' : 'cpu';
}

/** onnxruntime's provider list: CUDA with the CPU behind it (for operators CUDA lacks). */
export function executionProviders(provider: OnnxProvider): string[] {
  return provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
}

/**
 * Opens an encoder's sessions on the resolved provider; under `auto`, a CUDA start that fails (no
 * GPU, no driver, missing CUDA libraries) falls back to the CPU, and `note` says why.
 */
export async function openOnProvider<T>(
  setting: OnnxProviderSetting,
  open: (providers: string[]) => Promise<T>,
  cudaInstalled: () => boolean = onnxCudaInstalled,
): Promise<{ value: T; provider: OnnxProvider; note?: string }> {
  const provider = resolveOnnxProvider(setting, setting === 'cpu' ? false : cudaInstalled());
  if (provider === 'cpu') return { value: await open(executionProviders('cpu')), provider };
  try {
    return { value: await open(executionProviders('cuda')), provider };
  } catch (error) {
    if (setting === 'cuda') throw error;
    return {
      value: await open(executionProviders('cpu')),
      provider: 'cpu',
      note: `the CUDA provider did not start (${errorMessage(error)}); running on the CPU`,
    };
  }
}
