import { PerceiveError } from '../../src/core/errors.js';

/** The PerceiveError `fn` throws (any other error is rethrown; no error fails the test). */
export function errorOf(fn: () => unknown): PerceiveError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PerceiveError) return e;
    throw e;
  }
  throw new Error('no error');
}
