/**
 * clip.dense without a model: its config member, ids and params, the late-interaction rule on
 * hand-made maps, and the .npy bytes the exported maps are written as.
 */
import { describe, expect, it } from 'vitest';
import { ArmSpecSchema, armSpecId, parseExperimentConfig } from '../../src/config/experiment.js';
import { captionColumns, cosineMap, maxSim } from '../../src/models/clip/clip-dense-arm.js';
import { armDefinition } from '../../src/models/registry.js';
import { npyBytes } from '../../src/run/array-files.js';

const built = (spec: Record<string, unknown>) => {
  const s = ArmSpecSchema.parse(spec);
  return armDefinition(s.arm).create(s, { modelHash: 'h' } as never, armSpecId(s));
};

describe('clip.dense arm spec', () => {
  it('defaults to no exported maps; export_maps enters the params (the task hash), the score rule the prompt id', () => {
    expect(ArmSpecSchema.parse({ arm: 'clip.dense', model: 'clip' })).toEqual({ arm: 'clip.dense', model: 'clip', export_maps: false });
    const plain = built({ arm: 'clip.dense', model: 'clip' });
    expect(plain.id).toBe('clip.dense');
    expect(plain.prompt).toEqual({ id: 'clip.dense.maxsim', version: 1 });
    expect(plain.params).toBeUndefined();
    const maps = built({ arm: 'clip.dense', model: 'clip', export_maps: true, label: 'dense.maps' });
    expect(maps.id).toBe('dense.maps');
    expect(maps.params).toEqual({ export_maps: true });
    expect(() => ArmSpecSchema.parse({ arm: 'clip.dense', model: 'clip', export_maps: 'yes' })).toThrow();
  });

  it('runs on a contrastive model only', () => {
    const text = (model: string) => `name: t
benchmarks:
  - { name: w, format: whatsup-controlled, annotations: a.json, data_dir: d, subset: controlled_a }
models:
  llava: { kind: llama, model: m.gguf, mmproj: p.gguf }
  clip: { kind: clip, path: c }
arms:
  - { arm: clip.dense, model: ${model} }
`;
    expect(parseExperimentConfig(text('clip'), 'exp.yaml').arms).toHaveLength(1);
    expect(() => parseExperimentConfig(text('llava'), 'exp.yaml')).toThrow(/arms\[0\]\.model: arm clip\.dense needs a model of kind clip or siglip/);
  });
});

describe('MaxSim late interaction', () => {
  it('averages, over the caption tokens between BOS and EOS, the best patch (the class token row left out)', () => {
    expect(captionColumns(5)).toEqual([1, 2, 3]);
    expect(captionColumns(2)).toEqual([1]); // an empty caption: its EOS token
    // 3 rows (class token, 2 patches) × 4 columns (BOS, 2 tokens, EOS), row-major.
    const map = Float64Array.from(
      [
        [0.9, 0.9, 0.9, 0.9], // class token: never counted
        [0.0, 0.2, 0.5, 0.7],
        [0.1, 0.4, -0.3, 0.1],
      ].flat(),
    );
    expect(maxSim(map, 3, 4)).toBeCloseTo((0.4 + 0.5) / 2, 12);
  });

  it('maps every (patch, token) pair of unit vectors to their cosine', () => {
    const image = { rows: 2, dim: 2, data: Float32Array.from([1, 0, 0, 1]) };
    const text = { rows: 3, dim: 2, data: Float32Array.from([1, 0, Math.SQRT1_2, Math.SQRT1_2, 0, -1]) };
    const expected = [1, Math.SQRT1_2, 0, 0, Math.SQRT1_2, -1];
    Array.from(cosineMap(image, text)).forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 6));
  });
});

describe('.npy bytes', () => {
  it('writes NumPy format 1.0: magic, a 64-byte-aligned header with dtype, order and shape, then the data', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = npyBytes([1, 2, 3], new Uint8Array(data.buffer));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('\x93NUMPY\x01\x00');
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
    expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }");
    expect(header.endsWith('\n')).toBe(true);
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset + 10 + headerLength, bytes.byteOffset + bytes.length)))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(npyBytes([4], new Uint8Array(16)).toString('latin1')).toContain("'shape': (4,)");
  });
});
