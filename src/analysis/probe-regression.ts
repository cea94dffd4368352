import numeric from 'numeric';
import { fitSoftmaxNewton } from './softmax-newton.js';

/**
 * L2-regularised multinomial logistic regression, the linear probe's classifier. The optimiser is
 * Newton's method with a line search (softmax-newton.ts: exact gradient and Hessian, converged until
 * a step moves no parameter by 1e-8); it replaced numeric's `uncmin` (BFGS), which reached the same
 * optimum (held-out probabilities within 1e-6) several times slower. Features are standardised with
 * the training rows' mean and standard deviation.
 *
 * Loss: mean cross-entropy of softmax(W·z + b) + (l2 / 2)·‖W‖² (the intercepts b unpenalised),
 * i.e. scikit-learn's `LogisticRegression(C = 1 / (l2 · n))`.
 *
 * Newton's step solves with the dense Hessian, so the number of parameters is capped (`MAX_PARAMETERS`):
 * the standardised rows are first expressed in their principal directions (numeric's `svd`), keeping
 * r = min(d, n − 1, MAX_PARAMETERS / K − 1) of them. With r = min(d, n − 1) this changes nothing
 * (an L2 solution lies in the span of the centred training rows and the rotation keeps the norm);
 * below that, the probe is fitted on the top r principal components (stated in `ProbeFit.components`).
 */
export const MAX_PARAMETERS = 256;

export interface ProbeFitOptions {
  /** L2 strength (see the loss above). */
  l2: number;
  /** Number of classes; labels are 0..classes−1. */
  classes: number;
  /** Newton iterations at most (default 100; the probe's fits converge in about 10). */
  maxIterations?: number;
}

export interface ProbeFit {
  /** Class probabilities of each row of `test`. */
  probabilities: number[][];
  /** Feature dimensions the classifier saw (d, or the principal components kept). */
  components: number;
  iterations: number;
}

function standardiser(rows: Float64Array[], dim: number): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(dim);
  const scale = new Float64Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) mean[j]! += r[j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= rows.length;
  for (const r of rows)
    for (let j = 0; j < dim; j++) {
      const c = r[j]! - mean[j]!;
      scale[j]! += c * c;
    }
  for (let j = 0; j < dim; j++) {
    const sd = Math.sqrt(scale[j]! / rows.length);
    scale[j] = sd > 1e-12 ? 1 / sd : 0; // a constant feature carries nothing
  }
  return { mean, scale };
}

/** The top `r` principal directions (unit vectors of length dim) of centred rows. */
function principalDirections(rows: Float64Array[], dim: number, r: number): Float64Array[] {
  const n = rows.length;
  if (n <= dim) {
    // Gram matrix (n × n): its eigenvectors u give the directions Zᵀu / ‖Zᵀu‖.
    const gram = rows.map((a) => rows.map((b) => dot(a, b)));
    const { U, S } = numeric.svd(gram);
    const out: Float64Array[] = [];
    for (let k = 0; k < r && k < n; k++) {
      if (!(S[k]! > 1e-9)) break;
      const v = new Float64Array(dim);
      for (let i = 0; i < n; i++) {
        const u = U[i]![k]!;
        const row = rows[i]!;
        for (let j = 0; j < dim; j++) v[j]! += u * row[j]!;
      }
      const norm = Math.sqrt(dot(v, v));
      for (let j = 0; j < dim; j++) v[j]! /= norm;
      out.push(v);
    }
    return out;
  }
  const cov: number[][] = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
  for (const row of rows)
    for (let a = 0; a < dim; a++) {
      const x = row[a]!;
      if (x === 0) continue;
      const line = cov[a]!;
      for (let b = 0; b < dim; b++) line[b]! += x * row[b]!;
    }
  const { V, S } = numeric.svd(cov);
  const out: Float64Array[] = [];
  for (let k = 0; k < r && k < dim; k++) {
    if (!(S[k]! > 1e-9)) break;
    out.push(Float64Array.from(V, (line) => line[k]!));
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Fits the probe on (train, labels) and returns the class probabilities of the test rows. */
export function fitProbe(train: Float32Array[], labels: number[], test: Float32Array[], options: ProbeFitOptions): ProbeFit {
  const k = options.classes;
  const n = train.length;
  if (n === 0) throw new RangeError('the probe needs at least one training row');
  const dim = train[0]!.length;
  const { mean, scale } = standardiser(
    train.map((r) => Float64Array.from(r)),
    dim,
  );
  const standardise = (r: Float32Array): Float64Array => Float64Array.from(r, (x, j) => (x - mean[j]!) * scale[j]!);
  let trainZ = train.map(standardise);
  let testZ = test.map(standardise);
  const r = Math.max(1, Math.min(dim, n - 1, Math.floor(MAX_PARAMETERS / k) - 1));
  if (r < dim) {
    const directions = principalDirections(trainZ, dim, r);
    const project = (z: Float64Array): Float64Array => Float64Array.from(directions, (v) => dot(v, z));
    trainZ = trainZ.map(project);
    testZ = testZ.map(project);
  }
  const p = trainZ[0]!.length;
  const width = p + 1; // weights then intercept, per class
  const { params, iterations } = fitSoftmaxNewton(trainZ, labels, k, options.l2, options.maxIterations ?? 100);
  const probabilities = testZ.map((z) => {
    const logits = Array.from({ length: k }, (_, c) => {
      let s = params[c * width + p]!;
      for (let j = 0; j < p; j++) s += params[c * width + j]! * z[j]!;
      return s;
    });
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const sum = exps.reduce((x, y) => x + y, 0);
    return exps.map((e) => e / sum);
  });
  return { probabilities, components: p, iterations };
}
