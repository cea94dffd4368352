/**
 * Linear-probe benchmark: wall time of the report-time probe (src/analysis/probe.ts: grouped 5-fold
 * cross-validation of the L2 multinomial logistic regression) on a What'sUp-sized set with real
 * CLIP embedding widths, the class weakly encoded in a direction of the embedding.
 *
 *   npx tsx bench/probe.ts [--rows N] [--dim D] [--classes K] [--small]
 *
 * Defaults: What'sUp Controlled A (412 images, 4 prepositions, 103 object pairs) with ViT-B/32's
 * 512-dimensional image_embeds. The last line is the seconds per probe (target ≤ 30 s: a report on
 * a 2-core machine should not wait longer for one probe).
 */
import { parseArgs } from 'node:util';
import { groupedFolds } from '../src/analysis/probe-folds.js';
import { fitProbe } from '../src/analysis/probe-regression.js';
import { mulberry32 } from '../src/core/seeded-random.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '412' },
    dim: { type: 'string', default: '512' },
    classes: { type: 'string', default: '4' },
    small: { type: 'boolean', default: false },
  },
});
const rows = values.small ? 40 : Number(values.rows);
const dim = values.small ? 16 : Number(values.dim);
const k = Number(values.classes);

const rand = mulberry32(1);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const labels = Array.from({ length: rows }, (_, i) => i % k);
const groups = labels.map((_, i) => `pair${Math.floor(i / k)}`);
const features = labels.map((c) => Float32Array.from({ length: dim }, (_, j) => gauss() + (j % k === c ? 0.3 : 0)));

const start = performance.now();
const folds = groupedFolds(groups, 5, 0);
let right = 0;
let components = 0;
for (let f = 0; f < 5; f++) {
  const train = labels.map((_, i) => i).filter((i) => folds[i] !== f);
  const test = labels.map((_, i) => i).filter((i) => folds[i] === f);
  const fit = fitProbe(
    train.map((i) => features[i]!),
    train.map((i) => labels[i]!),
    test.map((i) => features[i]!),
    { l2: 0.01, classes: k },
  );
  components = fit.components;
  fit.probabilities.forEach((p, j) => {
    if (p.indexOf(Math.max(...p)) === labels[test[j]!]) right += 1;
  });
}
const seconds = (performance.now() - start) / 1000;
console.log(`rows ${rows}, dim ${dim}, classes ${k}, components fitted ${components}, held-out accuracy ${((100 * right) / rows).toFixed(1)} %`);
console.log(`probe: ${seconds.toFixed(2)} s for 5 folds (target ≤ 30 s): ${seconds <= 30 ? 'met' : 'NOT met'}`);
