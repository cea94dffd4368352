import { describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { BundleFailure, bundleFailureReason, isTransient, TransientBundleError } from '../../src/execution/bundle-executor.js';

describe('how a bundle error is classified', () => {
  it('retries a crashed, hung or overloaded server, never bad input', () => {
    expect(isTransient(new PerceiveError('server-unreachable', 'x'))).toBe(true);
    expect(isTransient(new PerceiveError('server-timeout', 'x'))).toBe(true);
    expect(isTransient(Object.assign(new Error('503'), { status: 503 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('socket'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('400'), { status: 400 }))).toBe(false);
    expect(isTransient(new PerceiveError('bad-image', 'x'))).toBe(false);
    expect(isTransient(new PerceiveError('bad-server-answer', 'x'))).toBe(false);
    expect(isTransient(new Error('a bug'))).toBe(false);
  });

  it("a failed bundle's reason is data: the code and the message as raised, never parsed back", () => {
    expect(bundleFailureReason(new BundleFailure('image-hash-mismatch', 'image a.jpg differs'))).toEqual({
      code: 'image-hash-mismatch',
      message: 'image a.jpg differs',
    });
    expect(
      bundleFailureReason(new TransientBundleError(new PerceiveError('server-timeout', 'slow: 1 s'), { bundle: 'b', worker: 'w', results: [], failures: [] })),
    ).toEqual({ code: 'server-timeout', message: 'slow: 1 s' });
    expect(bundleFailureReason(new Error('something odd: with a colon'))).toEqual({ code: 'error', message: 'something odd: with a colon' });
  });
});
