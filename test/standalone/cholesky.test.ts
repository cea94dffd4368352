import { describe, expect, it } from 'vitest';
import { solveCholesky } from '../../src/analysis/cholesky.js';

describe('solveCholesky', () => {
  it('solves a symmetric positive-definite system', () => {
    // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]], x = [1, −2, 3] → b = A·x = [0, −5, 7]
    const a = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
    const x = solveCholesky(a, Float64Array.from([0, -5, 7]), 3);
    expect(Array.from(x).map((v) => Number(v.toFixed(12)))).toEqual([1, -2, 3]);
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => solveCholesky(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toThrow(/not positive definite \(pivot 1/);
  });
});
