import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIP_KIND } from '../../src/models/clip/clip-kind.js';
import { ClipModelSchema } from '../../src/models/clip/clip-model-spec.js';
import { executionProviders, onnxBindingDir, onnxCudaInstalled, openOnProvider, resolveOnnxProvider } from '../../src/models/clip/onnx-provider.js';
import { SiglipModelSchema } from '../../src/models/siglip/siglip-model-spec.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-ort-provider-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("onnxruntime's execution provider for the contrastive encoders", () => {
  it('is auto by default in the config, and accepts cpu and cuda only', () => {
    expect(ClipModelSchema.parse({ kind: 'clip', path: 'x' }).provider).toBe('auto');
    expect(SiglipModelSchema.parse({ kind: 'siglip', path: 'x', provider: 'cuda' }).provider).toBe('cuda');
    expect(ClipModelSchema.safeParse({ kind: 'clip', path: 'x', provider: 'rocm' }).success).toBe(false);
  });

  it('resolves auto to CUDA only when the CUDA provider is installed; cuda without it is an error naming the fix', () => {
    expect(resolveOnnxProvider('auto', true)).toBe('cuda');
    expect(resolveOnnxProvider('auto', false)).toBe('cpu');
    expect(resolveOnnxProvider('cpu', true)).toBe('cpu');
    expect(resolveOnnxProvider('cuda', true)).toBe('cuda');
    expect(() => resolveOnnxProvider('cuda', false)).toThrow(/provider: cuda, but the installed onnxruntime-node has no CUDA provider/);
    expect(executionProviders('cuda')).toEqual(['cuda', 'cpu']);
    expect(executionProviders('cpu')).toEqual(['cpu']);
  });

  it('finds the CUDA provider library beside the binding (this install ships none)', () => {
    const binding = onnxBindingDir()!;
    expect(fs.existsSync(path.join(binding, 'onnxruntime_binding.node'))).toBe(true);
    expect(onnxCudaInstalled()).toBe(fs.existsSync(path.join(binding, 'libonnxruntime_providers_cuda.so')));
    if (process.platform === 'linux') {
      fs.writeFileSync(path.join(dir, 'libonnxruntime_providers_cuda.so'), '');
      expect(onnxCudaInstalled(dir)).toBe(true);
      expect(onnxCudaInstalled(path.join(dir, 'none'))).toBe(false);
    }
  });

  it('under auto falls back to the CPU, saying why, when a CUDA session does not start; under cuda it fails', async () => {
    const tried: string[][] = [];
    const open = async (providers: string[]): Promise<string> => {
      tried.push(providers);
      if (providers[0] === 'cuda') throw new Error('no CUDA-capable device is detected');
      return 'session';
    };
    const auto = await openOnProvider('auto', open, () => true);
    expect(auto).toEqual({
      value: 'session',
      provider: 'cpu',
      note: 'the CUDA provider did not start (no CUDA-capable device is detected); running on the CPU',
    });
    expect(tried).toEqual([['cuda', 'cpu'], ['cpu']]);
    await expect(openOnProvider('cuda', open, () => true)).rejects.toThrow('no CUDA-capable device is detected');
    expect(await openOnProvider('cpu', open, () => true)).toEqual({ value: 'session', provider: 'cpu' });
    expect(
      await openOnProvider(
        'auto',
        async () => 'gpu',
        () => true,
      ),
    ).toEqual({ value: 'gpu', provider: 'cuda' });
  });

  it("says in the manifest's models[] entry which provider the setting resolves to on this host", () => {
    const installed = onnxCudaInstalled();
    expect(CLIP_KIND.describe!(ClipModelSchema.parse({ kind: 'clip', path: 'x' }))).toEqual({ provider: installed ? 'cuda' : 'cpu', provider_setting: 'auto' });
    expect(CLIP_KIND.describe!(ClipModelSchema.parse({ kind: 'clip', path: 'x', provider: 'cpu' }))).toEqual({ provider: 'cpu', provider_setting: 'cpu' });
  });
});
