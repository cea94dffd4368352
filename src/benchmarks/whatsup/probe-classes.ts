import type { ProbeDeclaration } from '../benchmark-family.js';

/** The caption word of each of the authors' preposition labels (`Controlled_Images.all_prepositions`). */
const LABEL_OF_WORD: Record<string, string> = {
  left: 'left_of',
  right: 'right_of',
  on: 'on',
  under: 'under',
  front: 'in-front_of',
  behind: 'behind',
};

/** A caption's preposition label: its one preposition word, mapped to the authors' label; else undefined. */
export function captionPreposition(caption: string): string | undefined {
  const words = new Set(caption.split(/\s+/));
  const found = Object.keys(LABEL_OF_WORD).filter((w) => words.has(w));
  return found.length === 1 ? LABEL_OF_WORD[found[0]!] : undefined;
}

/**
 * What'sUp Controlled's probe: the class is the authors' preposition label of the image
 * (`groups.preposition`); folds are grouped by object pair (`groups.set`: the 4 images of one
 * pair of objects), so the probe never sees the test objects; each caption's score is the
 * probability of its own preposition.
 */
export const WHATSUP_PROBE: ProbeDeclaration = {
  target: 'preposition',
  minClassSamples: 0,
  group: (item) => item.groups.set ?? item.images[0] ?? '',
  imageClasses: (item) => [item.groups.preposition],
  optionClasses: (item) => [item.options.map(captionPreposition)],
};
