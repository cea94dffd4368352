import { mulberry32 } from '../../core/seeded-random.js';
/**
 * A seeded random stream for the Order perturbations. The ARO code draws from numpy's and Python's
 * global generators (seeded once by `seed_all(1)` in main_aro.py), so its exact permutations cannot be
 * reproduced outside that process (and they depend on spaCy's tokens); ours are deterministic for
 * (seed, caption index), independent of load order and `limit`. For the authors' exact options,
 * load a pre-built options file.
 */

/** mulberry32: uniform in [0, 1). */
export class SeededStream {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  next(): number {
    return this.random();
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** In-place Fisher–Yates, the algorithm of both `random.shuffle` and `np.random.permutation`. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const tmp = xs[i] as T;
      xs[i] = xs[j] as T;
      xs[j] = tmp;
    }
    return xs;
  }
}

/** The stream for caption number `index` under `seed` (FNV-1a over both, then mixed). */
export function streamFor(seed: number, index: number): SeededStream {
  let h = 0x811c9dc5;
  for (const v of [seed >>> 0, index >>> 0, Math.floor(index / 4294967296) >>> 0]) {
    for (let k = 0; k < 4; k++) {
      h ^= (v >>> (8 * k)) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return new SeededStream(h);
}
