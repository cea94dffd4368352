import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { TINY_SIGLIP_LOGITS, writeTinySiglip } from '../../src/fixtures/tiny-siglip.js';
import { writeTinyClip } from '../../src/fixtures/tiny-clip.js';
import { logitParamsFromConfig, readLogitParamsFromOnnx } from '../../src/models/siglip/siglip-logit-params.js';
import { siglipLogit, siglipProbability } from '../../src/models/siglip/siglip-score.js';

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'siglip-score-'));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('siglipProbability', () => {
  it('is sigmoid(exp(t)·cos + b)', () => {
    const p = { scale: Math.log(10), bias: -2.5 };
    expect(siglipLogit(0.25, p)).toBeCloseTo(0, 12);
    expect(siglipProbability(0.25, p)).toBeCloseTo(0.5, 12);
    expect(siglipProbability(0.5, p)).toBeCloseTo(1 / (1 + Math.exp(-2.5)), 12);
    expect(siglipProbability(-1, p)).toBeCloseTo(1 / (1 + Math.exp(12.5)), 15);
    // Real SigLIP base: t ≈ 4.7, b ≈ -16.5: a cosine of 0.1 is a probability of about 3.5e-3.
    expect(siglipProbability(0.1, { scale: 4.7, bias: -16.5 })).toBeCloseTo(1 / (1 + Math.exp(16.5 - 0.1 * Math.exp(4.7))), 15);
  });

  it('orders pairs as the cosine does, and stays finite for extreme logits', () => {
    const p = { scale: 4.7, bias: -16.5 };
    const cosines = [-1, -0.3, 0, 0.05, 0.1, 0.2, 0.3];
    const probs = cosines.map((c) => siglipProbability(c, p));
    for (let i = 1; i < probs.length; i++) expect(probs[i]).toBeGreaterThan(probs[i - 1] as number);
    // Far above the bias the sigmoid saturates to 1 in float64: ties the cosine does not have,
    // which is why argmax metrics read the cosine.
    expect(siglipProbability(0.9, p)).toBe(1);
    expect(siglipProbability(1, p)).toBe(1);
    expect(siglipProbability(1, { scale: 10, bias: 0 })).toBe(1);
    expect(siglipProbability(-1, { scale: 10, bias: 0 })).toBe(0); // exp(-22026) underflows, no NaN
  });
});

describe('readLogitParamsFromOnnx', () => {
  it('reads logit_scale and logit_bias initializers of the combined SiglipModel export', async () => {
    const { dir } = await writeTinySiglip(path.join(tmp, 'plain'), { seed: 1, layout: 'combined' });
    const params = await readLogitParamsFromOnnx(path.join(dir, 'onnx/model.onnx'));
    expect(params).toEqual({ scale: Math.fround(TINY_SIGLIP_LOGITS.scale), bias: -2.5, how: 'initializers logit_scale, logit_bias' });
  });

  it('recovers the scale when constant folding left exp(logit_scale) as an unnamed constant', async () => {
    const { dir } = await writeTinySiglip(path.join(tmp, 'folded'), { seed: 1, layout: 'combined', foldLogitScale: true });
    const params = await readLogitParamsFromOnnx(path.join(dir, 'onnx/model.onnx'));
    expect(params?.bias).toBe(-2.5);
    expect(params?.scale).toBeCloseTo(Math.log(10), 6);
    expect(params?.how).toBe('logit_bias and exp(logit_scale) folded into onnx::Mul_1234');
  });

  it('finds nothing in a graph without logit_bias (a tower, or CLIP)', async () => {
    const { dir } = await writeTinySiglip(path.join(tmp, 'towers'), { seed: 1, layout: 'separate' });
    expect(await readLogitParamsFromOnnx(path.join(dir, 'onnx/text_model.onnx'))).toBeUndefined();
    const clip = await writeTinyClip(path.join(tmp, 'clip'), { seed: 1, layout: 'combined' });
    expect(await readLogitParamsFromOnnx(path.join(clip.dir, 'onnx/model.onnx'))).toBeUndefined();
  });

  it('names the file when it is not an ONNX model', async () => {
    const junk = path.join(tmp, 'junk.onnx');
    await fs.writeFile(junk, Buffer.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const error = await readLogitParamsFromOnnx(junk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PerceiveError);
    expect((error as PerceiveError).message).toContain(`${junk} is not an ONNX model`);
    const missing = await readLogitParamsFromOnnx(path.join(tmp, 'none.onnx')).catch((e: unknown) => e);
    expect((missing as PerceiveError).code).toBe('bad-model');
  });
});

describe('logitParamsFromConfig', () => {
  it('reads top-level logit_scale and logit_bias, both or nothing', () => {
    expect(logitParamsFromConfig({ model_type: 'siglip', logit_scale: 4.7, logit_bias: -16.5 })).toEqual({ scale: 4.7, bias: -16.5 });
    expect(logitParamsFromConfig({ model_type: 'siglip', logit_scale: 4.7 })).toBeUndefined();
    expect(logitParamsFromConfig({ model_type: 'siglip' })).toBeUndefined();
    expect(logitParamsFromConfig('nonsense')).toBeUndefined();
  });
});
