import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { errorOf } from '../support/perceive-error-of.js';
import { runtimeCount } from '../../src/execution/model-runtime.js';
import { startTogether } from '../../src/execution/start-together.js';
import { modelKind } from '../../src/models/registry.js';

const config = (llava: string): string => `
name: t
benchmarks:
  - { name: w, format: whatsup-controlled, annotations: a.json, data_dir: data, subset: controlled_a }
models:
  llava: { kind: llama, model: m.gguf, mmproj: p.gguf${llava} }
  clip: { kind: clip, path: clipdir }
arms:
  - { arm: clip, model: clip }
  - { arm: vlm.vqascore, model: llava }
`;

const env = { ...readEnvironment({}), llamaServerUrl: undefined };

describe('servers: several llama-servers per worker', () => {
  it('defaults to one server; a model kind without `instances` starts one runtime', () => {
    const { models } = parseExperimentConfig(config(''), '/cfg/x.yaml');
    expect(models.llava).toMatchObject({ kind: 'llama', servers: 1, slots: 1 });
    expect(runtimeCount(models.llava!, env)).toBe(1);
    expect(modelKind('clip').instances).toBeUndefined();
    expect(runtimeCount(models.clip!, env)).toBe(1);
  });

  it('starts `servers` runtimes per worker, records them in the manifest, and one when attached to a running server', () => {
    const { models } = parseExperimentConfig(config(', servers: 3, slots: 2'), '/cfg/x.yaml');
    const llava = models.llava!;
    expect(runtimeCount(llava, env)).toBe(3);
    expect(modelKind('llama').slots(llava as never)).toBe(2);
    expect(modelKind('llama').describe?.(llava as never)).toEqual({ servers: 3 });
    // LLAMA_SERVER_URL: nothing is started, so three runtimes would only triple the load on the one server.
    expect(runtimeCount(llava, { ...env, llamaServerUrl: 'http://127.0.0.1:8080' })).toBe(1);
  });

  it('refuses a servers value that is not a positive whole number, naming the file and field', () => {
    for (const bad of ['0', '-1', '1.5', 'two']) {
      const e = errorOf(() => parseExperimentConfig(config(`, servers: ${bad}`), 'x.yaml'));
      expect(e.code).toBe('bad-config');
      expect(e.message).toContain('x.yaml');
      expect(e.message).toContain('models.llava.servers: a whole number ≥ 1 (llama-server processes per worker)');
    }
  });
});

describe('startTogether: all servers of a worker start, or none stays', () => {
  const server = (index: number, closed: number[], ms: number, fail = false): Promise<{ index: number; close(): Promise<void> }> =>
    new Promise((resolve, reject) =>
      setTimeout(() => (fail ? reject(new Error(`server ${index} failed to start`)) : resolve({ index, close: async () => void closed.push(index) })), ms),
    );

  it('returns every started one in order when all start', async () => {
    const closed: number[] = [];
    const all = await startTogether(3, (k) => server(k, closed, 10 * (3 - k)));
    expect(all.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(closed).toEqual([]);
  });

  it('closes the others (also one still starting when the failure came) and throws the failure', async () => {
    const closed: number[] = [];
    // Server 1 fails at once; 0 and 2 finish starting later and are closed then.
    await expect(startTogether(3, (k) => server(k, closed, k === 1 ? 1 : 30, k === 1))).rejects.toThrow('server 1 failed to start');
    expect(closed.sort()).toEqual([0, 2]);
  });
});
