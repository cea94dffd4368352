/**
 * SugarCrepe++ ITT and TOT accuracies, ported (not copied) from
 * `Sri-Harsha/scpp@c083bbf039a5ca215acaf25e7ee736d2ea6f3864:VLMs/test_Variants_CLIP.py` (the same counts in
 * `VLMs/test_NegCLIP.py` `test`). With cosines of the image I and the captions P1, P2, N (all strict):
 *
 * - ITT ("Accuracy image-to-text task"): #(cos(I,P1) > cos(I,N) and cos(I,P2) > cos(I,N)) / total;
 * - "Accuracy Image-P1-Neg": #(cos(I,P1) > cos(I,N)) / total; "Image-P2-Neg" likewise for P2;
 * - TOT ("Accuracy text-only task"): #(cos(P1,P2) > cos(P1,N) and cos(P1,P2) > cos(P2,N)) / total.
 *
 * Our items' first score row is `[s(I,P1), s(I,P2), s(I,N)]`. TOT needs caption–caption similarities,
 * which no image row holds: a score matrix may carry them as a second row `[cos(P1,P2), cos(P1,N),
 * cos(P2,N)]` (`perceive metrics` takes it); TOT counts only the items that have it (`tot.total`), and is
 * null when none do. Missing items are left out (our rule; total = scored rows).
 */
import { PerceiveError } from '../../core/errors.js';
import type { Item, ScoreMatrix } from '../../core/item.js';

export interface SugarCrepePpOutcome {
  p1: boolean;
  p2: boolean;
  itt: boolean;
  /** undefined when the matrix has no text-only row. */
  tot: boolean | undefined;
}

export function sugarCrepePpOutcome(item: Item, m: ScoreMatrix): SugarCrepePpOutcome {
  const r = m[0];
  const t = m[1];
  if (r?.length !== 3 || m.length > 2 || (t !== undefined && t.length !== 3)) {
    throw new PerceiveError(
      'sugarcrepe-pp-bad-scores',
      `SugarCrepe++ item ${item.id}: expected a row [s(I,P1), s(I,P2), s(I,N)] and optionally a row [cos(P1,P2), cos(P1,N), cos(P2,N)], got ${m.length} row(s)`,
    );
  }
  const [sp1, sp2, sn] = r as [number, number, number];
  const p1 = sp1 > sn;
  const p2 = sp2 > sn;
  let tot: boolean | undefined;
  if (t !== undefined) {
    const [p1p2, p1n, p2n] = t as [number, number, number];
    tot = p1p2 > p1n && p1p2 > p2n;
  }
  return { p1, p2, itt: p1 && p2, tot };
}

export interface Count {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface SugarCrepePpMetrics {
  n: number;
  nMissing: number;
  itt: Count;
  imageP1Neg: Count;
  imageP2Neg: Count;
  tot: Count;
}

export function sugarCrepePpMetrics(items: Item[], scores: Map<string, ScoreMatrix>): SugarCrepePpMetrics {
  let n = 0;
  let itt = 0;
  let p1 = 0;
  let p2 = 0;
  let tot = 0;
  let totN = 0;
  for (const item of items) {
    const m = scores.get(item.id);
    if (m === undefined) continue;
    const o = sugarCrepePpOutcome(item, m);
    n += 1;
    if (o.itt) itt += 1;
    if (o.p1) p1 += 1;
    if (o.p2) p2 += 1;
    if (o.tot !== undefined) {
      totN += 1;
      if (o.tot) tot += 1;
    }
  }
  const c = (k: number, total: number): Count => ({ correct: k, total, accuracy: total > 0 ? k / total : null });
  return { n, nMissing: items.length - n, itt: c(itt, n), imageP1Neg: c(p1, n), imageP2Neg: c(p2, n), tot: c(tot, totN) };
}
