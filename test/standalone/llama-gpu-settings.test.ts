import { describe, expect, it } from 'vitest';
import { LlamaModelSchema } from '../../src/models/llama/llama-model-spec.js';
import { serverArgs } from '../../src/models/llama/llama-server.js';

const base = { kind: 'llama', model: 'm.gguf', mmproj: 'p.gguf' };

describe('llama-server slots and GPU settings', () => {
  it('passes slots as -np, gpu_layers as -ngl and devices as one --device list', () => {
    const spec = LlamaModelSchema.parse({ ...base, slots: 4, gpu_layers: 'all', devices: ['CUDA0', 'CUDA1'] });
    const args = serverArgs(
      { model: spec.model, mmproj: spec.mmproj, slots: spec.slots, gpuLayers: spec.gpu_layers!, devices: spec.devices!, threads: 2 },
      '127.0.0.1',
      8080,
    );
    expect(args.slice(args.indexOf('-np'), args.indexOf('-np') + 6)).toEqual(['-np', '4', '-ngl', 'all', '--device', 'CUDA0,CUDA1']);
    expect(serverArgs({ model: 'm', gpuLayers: 33 }, '127.0.0.1', 1)).toContain('33');
  });

  it('leaves llama.cpp its defaults (auto offload, every device) when unset', () => {
    const spec = LlamaModelSchema.parse(base);
    expect(spec.gpu_layers).toBeUndefined();
    expect(spec.devices).toBeUndefined();
    const args = serverArgs({ model: 'm', threads: 2 }, '127.0.0.1', 1);
    expect(args).not.toContain('-ngl');
    expect(args).not.toContain('--device');
    expect(args.slice(args.indexOf('--host'), args.indexOf('--host') + 2)).toEqual(['--host', '127.0.0.1']);
  });

  it('refuses a negative layer count and a device name that is not one', () => {
    expect(LlamaModelSchema.safeParse({ ...base, gpu_layers: -1 }).success).toBe(false);
    expect(LlamaModelSchema.safeParse({ ...base, devices: ['CUDA0 --host 0.0.0.0'] }).success).toBe(false);
    expect(LlamaModelSchema.safeParse({ ...base, devices: [] }).success).toBe(false);
    expect(LlamaModelSchema.safeParse({ ...base, gpu_layers: 'auto', devices: ['none'] }).success).toBe(true);
  });
});
