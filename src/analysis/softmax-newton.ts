import { solveCholesky } from './cholesky.js';

/**
 * Newton's method (iteratively reweighted least squares) for the L2-regularised multinomial
 * logistic regression: minimises mean cross-entropy of softmax(W·z + b) + (l2 / 2)·‖W‖², the
 * intercepts b unpenalised. The loss is strictly convex except along "add one constant to every
 * intercept" (softmax ignores it); the gradient is always orthogonal to that direction, so adding
 * e·eᵀ (e the unit all-intercepts vector) to the Hessian makes it positive definite without moving
 * the step, and the iterates keep Σ b = 0 from the zero start. A backtracking line search on the
 * loss keeps each step a descent; near the optimum the full step is taken and convergence is
 * quadratic.
 *
 * Parameters are laid out per class: p weights then the intercept (width p + 1).
 */
export interface SoftmaxNewtonResult {
  params: Float64Array;
  iterations: number;
}

/** Stop once the Newton step moves no parameter by more than this (the step is taken). */
const STEP_TOLERANCE = 1e-8;

export function fitSoftmaxNewton(rows: Float64Array[], labels: number[], classes: number, l2: number, maxIterations: number): SoftmaxNewtonResult {
  const n = rows.length;
  const k = classes;
  const p = rows[0]!.length;
  const width = p + 1;
  const m = k * width;
  const params = new Float64Array(m);
  const probs = new Float64Array(n * k);
  const probabilities = (theta: Float64Array): number => {
    let ce = 0;
    for (let i = 0; i < n; i++) {
      const z = rows[i]!;
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        const base = c * width;
        let s = theta[base + p]!;
        for (let j = 0; j < p; j++) s += theta[base + j]! * z[j]!;
        probs[i * k + c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(probs[i * k + c]! - max);
        probs[i * k + c] = e;
        sum += e;
      }
      for (let c = 0; c < k; c++) probs[i * k + c]! /= sum;
      ce -= Math.log(Math.max(probs[i * k + labels[i]!]!, 1e-300));
    }
    let penalty = 0;
    for (let c = 0; c < k; c++) for (let j = 0; j < p; j++) penalty += theta[c * width + j]! ** 2;
    return ce / n + (l2 / 2) * penalty;
  };
  let loss = probabilities(params);
  const gradient = new Float64Array(m);
  const hessian = new Float64Array(m * m);
  const x = new Float64Array(width);
  const trial = new Float64Array(m);
  const intercept = 1 / k; // (e·eᵀ) entries between two intercepts: (1/√k)²
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations += 1;
    gradient.fill(0);
    hessian.fill(0);
    for (let i = 0; i < n; i++) {
      const z = rows[i]!;
      x.set(z);
      x[p] = 1;
      for (let c = 0; c < k; c++) {
        const pc = probs[i * k + c]!;
        const residual = (pc - (labels[i] === c ? 1 : 0)) / n;
        for (let j = 0; j < width; j++) gradient[c * width + j]! += residual * x[j]!;
        // lower triangle of the (c, d) blocks, d ≤ c: p_c·(δ_cd − p_d)·x·xᵀ / n
        for (let d = 0; d <= c; d++) {
          const w = (pc * ((c === d ? 1 : 0) - probs[i * k + d]!)) / n;
          if (w === 0) continue;
          for (let a = 0; a < width; a++) {
            const wa = w * x[a]!;
            const row = (c * width + a) * m + d * width;
            const last = c === d ? a : width - 1;
            for (let b = 0; b <= last; b++) hessian[row + b]! += wa * x[b]!;
          }
        }
      }
    }
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < p; j++) {
        const at = c * width + j;
        gradient[at]! += l2 * params[at]!;
        hessian[at * m + at]! += l2;
      }
      for (let d = 0; d <= c; d++) hessian[(c * width + p) * m + d * width + p]! += intercept;
    }
    for (let i = 0; i < m; i++) gradient[i] = -gradient[i]!;
    const step = solveCholesky(hessian, gradient, m); // the Newton step, −H⁻¹g
    let slope = 0; // gᵀ·step (negative)
    for (let i = 0; i < m; i++) slope -= gradient[i]! * step[i]!;
    let largest = 0;
    for (let i = 0; i < m; i++) largest = Math.max(largest, Math.abs(step[i]!));
    if (largest < STEP_TOLERANCE) {
      for (let i = 0; i < m; i++) params[i]! += step[i]!;
      break;
    }
    let t = 1;
    let next = loss;
    for (;;) {
      for (let i = 0; i < m; i++) trial[i] = params[i]! + t * step[i]!;
      next = probabilities(trial);
      if (next <= loss + 1e-4 * t * slope || t < 1e-10) break;
      t /= 2;
    }
    params.set(trial);
    loss = next;
    if (t < 1e-10) break; // no descent left at machine precision
  }
  return { params, iterations };
}
