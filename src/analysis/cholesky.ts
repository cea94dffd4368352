/**
 * Solves A·x = b for a symmetric positive-definite A (m × m, row-major, only the lower triangle
 * read) by its Cholesky factor A = L·Lᵀ. `a` is overwritten with L; returns x (a new array).
 * Throws a RangeError when A is not positive definite.
 */
export function solveCholesky(a: Float64Array, b: Float64Array, m: number): Float64Array {
  for (let j = 0; j < m; j++) {
    const rowJ = j * m;
    let diagonal = a[rowJ + j]!;
    for (let k = 0; k < j; k++) diagonal -= a[rowJ + k]! ** 2;
    if (!(diagonal > 0)) throw new RangeError(`the matrix is not positive definite (pivot ${j}: ${diagonal})`);
    const ljj = Math.sqrt(diagonal);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      const rowI = i * m;
      let s = a[rowI + j]!;
      for (let k = 0; k < j; k++) s -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = s / ljj;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < m; i++) {
    const rowI = i * m;
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= a[rowI + k]! * x[k]!;
    x[i] = s / a[rowI + i]!;
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < m; k++) s -= a[k * m + i]! * x[k]!;
    x[i] = s / a[i * m + i]!;
  }
  return x;
}
