import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../../src/config/experiment.js';
import { readEnvironment } from '../../src/core/environment.js';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { hostTools } from '../../src/models/host-tools.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { uniquePrefix, writeQueueConfig } from '../support/queue-harness.js';

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-faults-hostile-'));
  await writeDemoFixtures(path.join(dir, 'fixtures'), { seed: 0 });
}, 300_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a run over a hostile data folder, with a password in REDIS_URL (issues 14.6, 14.7)', () => {
  it('images linked outside the data folder are refused by name and never read; the password is in no file and no console line', async () => {
    const images = path.join(dir, 'fixtures', 'whatsup', 'data', 'controlled_images');
    const files = fs.readdirSync(images).sort();
    // one image becomes a link to /etc/passwd, another a link to a good copy outside the data folder
    fs.rmSync(path.join(images, files[0]!));
    fs.symlinkSync('/etc/passwd', path.join(images, files[0]!));
    fs.copyFileSync(path.join(images, files[1]!), path.join(dir, 'outside.jpeg'));
    fs.rmSync(path.join(images, files[1]!));
    fs.symlinkSync(path.join(dir, 'outside.jpeg'), path.join(images, files[1]!));

    const output = path.join(dir, 'out');
    const loaded = loadExperimentConfig(
      writeQueueConfig(path.join(dir, 'c.yaml'), { fixtures: path.join(dir, 'fixtures'), output, prefix: uniquePrefix('f14b-hostile'), arms: ['clip'] }),
    );
    const env = { ...readEnvironment(), threads: 1, redisUrl: 'redis://127.0.0.1:1/?db=0&password=hunter2' };
    const lines: string[] = [];
    const result = await runExperiment(loaded, env, hostTools({}), { runId: 'hostile', queue: 'inline', onMessage: (l) => lines.push(l) });
    const refused = result.samples.filter((s) => s.status === 'failed');
    const linked = new Set(files.slice(0, 2).map((f) => path.join(images, f)));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((s) => s.error!.code === 'bad-image' && /refused image: .* is a link to /.test(s.error!.message))).toBe(true);
    expect(refused.every((s) => s.images.some((i) => linked.has(i.path)))).toBe(true);
    expect(refused.some((s) => s.error!.message.includes('/etc/passwd'))).toBe(true);
    expect(result.samples.filter((s) => s.status === 'ok').length).toBe(result.samples.length - refused.length);
    // the hash of /etc/passwd is nowhere in the samples
    const samplesText = fs.readFileSync(result.run.file('samples.jsonl'), 'utf8');
    expect(samplesText).not.toMatch(/"sha256":"[0-9a-f]{64}","path":"[^"]*(passwd)/);
    for (const file of ['manifest.json', 'log.jsonl', 'samples.jsonl']) expect(fs.readFileSync(result.run.file(file), 'utf8')).not.toContain('hunter2');
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(fs.readFileSync(result.run.file('manifest.json'), 'utf8') + fs.readFileSync(result.run.file('log.jsonl'), 'utf8')).toContain('password=***');
    console.log(
      `[faults 14.6/14.7] hostile data folder: ${result.samples.length} samples, ${refused.length} refused (links to /etc/passwd and outside), ${result.samples.length - refused.length} ok; "hunter2" in manifest.json/log.jsonl/samples.jsonl/console: 0 times`,
    );
  });
});
