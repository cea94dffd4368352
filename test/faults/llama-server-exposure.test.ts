import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/core/environment.js';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import type { LlamaBinaries } from '../../src/models/llama/llama-build.js';
import { type LlamaRestart, LlamaRunner } from '../../src/models/llama/llama-runner.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';

let dir: string;
let binaries: LlamaBinaries;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-faults-llama-'));
  binaries = await llamaBinaries();
  await writeDemoFixtures(path.join(dir, 'fixtures'), { seed: 0 });
}, BUILD_TIMEOUT_MS);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('llama-server: environment, --api-key, restarts, bounded log (issues 14.7, 14.8)', () => {
  it('gets no REDIS_URL, answers perceive with --api-key and nobody without it; a SIGKILLed server is restarted and the restart reported with its signal and log tail; per-request lines stay out of its log file', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://:hunter2@127.0.0.1:6379';
    const restarts: LlamaRestart[] = [];
    const logFile = path.join(dir, 'llama-server.test.log');
    const spec = {
      kind: 'llama' as const,
      model: path.join(dir, 'fixtures', 'tiny-llava', 'tiny-llava-text.gguf'),
      mmproj: path.join(dir, 'fixtures', 'tiny-llava', 'tiny-llava-mmproj.gguf'),
      context_size: 2048,
      threads: 1,
      slots: 1,
      server_args: ['--api-key', 'k-123'],
    };
    const env = { ...readEnvironment(), llamaServerUrl: undefined };
    const runner = await LlamaRunner.start(spec, { env, binaries, logFile, onRestart: (r) => restarts.push(r) });
    try {
      const pid = runner.currentServer.pid!;
      const childEnv = fs
        .readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((kv) => kv.split('=')[0]);
      expect(childEnv).not.toContain('REDIS_URL');
      expect(childEnv).toContain('LLAMA_MEDIA_MARKER');
      // perceive's own requests carry the key; a request without it is refused by the server.
      const anonymous = await fetch(`${runner.url}/tokenize`, {
        method: 'POST',
        body: JSON.stringify({ content: 'a' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(anonymous.status).toBe(401);
      const ids = await runner.tokenize('a red cube');
      expect(ids.length).toBeGreaterThan(0);
      const before = fs.statSync(logFile).size;
      // 20 scoring calls: llama-server prints ~7 `slot … | task N |` lines for each
      for (let i = 0; i < 20; i++) await runner.nextTokenLogprobs(`USER: is this word ${i} red? ASSISTANT:`, [], [ids[0]!]);
      await runner.metadata();
      const after = fs.statSync(logFile).size;

      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const again = await runner.tokenize('a blue sphere');
      expect(again.length).toBeGreaterThan(0);
      expect(runner.restarts).toBe(1);
      expect(restarts).toHaveLength(1);
      expect(restarts[0]!.exit?.signal).toBe('SIGKILL');
      // the crash tail (in memory) keeps the per-request lines the file leaves out
      expect(restarts[0]!.exit?.logTail).toMatch(/\| task \d+ \|/);
      expect(runner.currentServer.pid).not.toBe(pid);
      expect(after - before).toBeLessThan(500);
      console.log(
        `[faults 14.7/14.8] llama-server env: ${childEnv.length} variables, REDIS_URL absent; no key -> ${anonymous.status}, with perceive's Bearer -> ok; restart after SIGKILL reported: signal ${restarts[0]!.exit?.signal}, code ${restarts[0]!.exit?.code}, tail ${restarts[0]!.exit?.logTail.split('\n').length} lines; log file grew ${after - before} bytes over 20 scoring calls`,
      );
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
      await runner.stop();
    }
  });
});
