// The part of numeric (numericjs 1.2.6, which ships no types) that the linear probe uses: the
// singular value decomposition (`svd`) of its principal directions. (Its BFGS, `uncmin`, was the
// probe's optimiser until softmax-newton.ts replaced it.)
declare module 'numeric' {
  interface SvdResult {
    U: number[][];
    S: number[];
    V: number[][];
  }
  interface Numeric {
    svd(a: number[][]): SvdResult;
  }
  const numeric: Numeric;
  export default numeric;
}
