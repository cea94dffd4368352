import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadExperimentConfig, parseExperimentConfig } from '../../src/config/experiment.js';
import { errorOf } from '../support/perceive-error-of.js';

const GOOD = `
name: t
benchmarks:
  - { name: w, format: whatsup-controlled, annotations: a.json, data_dir: data, subset: controlled_a }
models:
  llava: { kind: llama, model: m.gguf, mmproj: p.gguf }
  clip: { kind: clip, path: clipdir }
arms:
  - { arm: clip, model: clip }
  - { arm: vlm.vqascore, model: llava }
`;

describe('experiment config', () => {
  it('parses, applies defaults and resolves paths against the config folder', () => {
    const c = parseExperimentConfig(GOOD, '/cfg/exp.yaml');
    expect(c.seed).toBe(0);
    expect(c.baseline).toBe('clip');
    expect(c.benchmarks[0]!.annotations).toBe(path.resolve('/cfg/a.json'));
    const llava = c.models.llava!;
    expect(llava.kind === 'llama' && llava.mmproj).toBe('/cfg/p.gguf');
    expect(c.arms[1]).toEqual({ arm: 'vlm.vqascore', model: 'llava', prompt_format: 'llava-v1', pad_to_square: true });
  });

  it('names the file and the field of a value of the wrong type', () => {
    const e = errorOf(() => parseExperimentConfig(GOOD.replace('path: clipdir', 'path: 3'), 'exp.yaml'));
    expect(e.code).toBe('bad-config');
    expect(e.message).toContain('exp.yaml: field models.clip.path');
    expect(e.message).toContain('expected string');
  });

  it('rejects unknown fields, unknown models and arm/model kind mismatches', () => {
    expect(errorOf(() => parseExperimentConfig(`${GOOD}\nsede: 3\n`, 'x.yaml')).message).toContain('x.yaml: field');
    expect(errorOf(() => parseExperimentConfig(GOOD.replace('{ arm: clip, model: clip }', '{ arm: clip, model: nope }'), 'x.yaml')).message).toContain(
      'field arms[0].model: no model named "nope"',
    );
    expect(errorOf(() => parseExperimentConfig(GOOD.replace('{ arm: clip, model: clip }', '{ arm: clip, model: llava }'), 'x.yaml')).message).toContain(
      'arm clip needs a model of kind clip',
    );
  });

  it("a benchmark's arms name arms of the config by id", () => {
    const c = parseExperimentConfig(GOOD.replace('subset: controlled_a }', 'subset: controlled_a, arms: [vlm.vqascore] }'), 'x.yaml');
    expect(c.benchmarks[0]!.arms).toEqual(['vlm.vqascore']);
    expect(parseExperimentConfig(GOOD, 'x.yaml').benchmarks[0]!.arms).toBeUndefined();
    const e = errorOf(() => parseExperimentConfig(GOOD.replace('subset: controlled_a }', 'subset: controlled_a, arms: [clip, vlm.mcq] }'), 'x.yaml'));
    expect(e.code).toBe('bad-config');
    expect(e.message).toBe('x.yaml: field benchmarks[0].arms[1]: no arm with id "vlm.mcq" (arms: clip, vlm.vqascore)');
  });

  it('reports YAML syntax errors and unreadable files with the file name', () => {
    expect(errorOf(() => parseExperimentConfig('name: [unclosed', 'broken.yaml')).message).toContain('broken.yaml: not valid YAML');
    expect(errorOf(() => loadExperimentConfig('/nonexistent/exp.yaml')).message).toContain('cannot read config /nonexistent/exp.yaml');
  });

  it('loads the shipped demo config', () => {
    const { config } = loadExperimentConfig(path.join(import.meta.dirname, '../../configs/demo.yaml'));
    expect(new Set(config.arms.map((a) => a.arm))).toEqual(
      new Set([
        'clip',
        'clip.dense',
        'vlm.vqascore',
        'vlm.mcq',
        'vlm.generate',
        'vlm2vec.question',
        'vlm2vec.plain',
        'vlm.two-image',
        'vlm.contrast',
        'probe',
        'vlm2vec.probe',
      ]),
    );
    expect(config.benchmarks.map((b) => b.format)).toEqual(['whatsup-controlled', 'mmvp', 'sugarcrepe', 'winoground']);
  });
});
