import type { ProbeDeclaration } from '../benchmark-family.js';

/** Relations with fewer probe rows are left out of ARO VG-Relation's probe. */
export const ARO_RELATION_MIN_SAMPLES = 50;

/**
 * ARO VG-Relation's probe: the class is the row's relation (`groups.relation`), for relations with at
 * least ARO_RELATION_MIN_SAMPLES rows; folds are grouped by image file, so crops of one image are
 * never on both sides. The two captions share their relation, so the probe's classes give no
 * option scores here: the report shows its relation accuracy only. VG-Attribution has no probe.
 */
export const ARO_VG_PROBE: ProbeDeclaration = {
  target: 'relation',
  minClassSamples: ARO_RELATION_MIN_SAMPLES,
  group: (item) => item.images[0] ?? '',
  imageClasses: (item) => [item.groups.kind === 'relation' ? item.groups.relation : undefined],
};
