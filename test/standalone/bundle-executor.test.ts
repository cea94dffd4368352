import { describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/errors.js';
import { failureCode, isTransient } from '../../src/queue/bundle-executor.js';

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

  it('reads the reason code back from a failed job\'s message', () => {
    expect(failureCode('image-hash-mismatch: image a.jpg differs')).toEqual({ code: 'image-hash-mismatch', message: 'image a.jpg differs' });
    expect(failureCode('something odd')).toEqual({ code: 'error', message: 'something odd' });
  });
});
