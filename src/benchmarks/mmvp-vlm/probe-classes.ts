import type { ProbeDeclaration } from '../benchmark-family.js';

const SIDES = ['statement 1', 'statement 2'] as const;

/**
 * MMVP-VLM's probe: each image's class is the side of the pair's statement that is true of it
 * (`groups.gt`, "g1,g2"); folds are grouped by pair, so both images of a pair are held out
 * together; image k's score for statement j is the probability of side j.
 */
export const MMVP_VLM_PROBE: ProbeDeclaration = {
  target: 'statement side',
  minClassSamples: 0,
  group: (item) => item.groups.pair ?? item.images.join('|'),
  imageClasses: (item) => (item.groups.gt ?? '').split(',').map((g) => (g === '0' || g === '1' ? SIDES[Number(g)] : undefined)),
  optionClasses: (item) => item.images.map(() => item.options.map((_, j) => SIDES[j])),
};
