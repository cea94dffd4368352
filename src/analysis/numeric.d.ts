// The part of numeric (numericjs 1.2.6, which ships no types) that the linear probe uses:
// BFGS minimisation with a line search (`uncmin`) and the singular value decomposition (`svd`).
declare module 'numeric' {
  interface UncminResult {
    solution: number[];
    f: number;
    gradient: number[];
    iterations: number;
    message: string;
  }
  interface SvdResult {
    U: number[][];
    S: number[];
    V: number[][];
  }
  interface Numeric {
    uncmin(f: (x: number[]) => number, x0: number[], tol?: number, gradient?: (x: number[]) => number[], maxit?: number): UncminResult;
    svd(a: number[][]): SvdResult;
  }
  const numeric: Numeric;
  export default numeric;
}
