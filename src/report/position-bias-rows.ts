import type { PositionBias } from '../analysis/position-bias.js';

/** One letter position of a position-bias table: counts over the arm's prompts and their shares. */
export interface LetterRow {
  letter: string;
  picked: number;
  correctHere: number;
  pickedAndRight: number;
  /** picked / prompts; null without prompts. */
  pickedShare: number | null;
  /** correctHere / prompts; null without prompts. */
  correctShare: number | null;
}

/**
 * The per-letter rows of a position-bias table (the report's option-order view and the
 * `report --compare` position-bias view): one per letter of `letters`, by default `b`'s own; a
 * letter `b` has no position for counts zero.
 */
export function letterRows(b: PositionBias, letters: readonly string[] = b.positions.map((p) => p.letter)): LetterRow[] {
  const share = (k: number): number | null => (b.prompts > 0 ? k / b.prompts : null);
  return letters.map((letter) => {
    const p = b.positions.find((q) => q.letter === letter);
    const picked = p?.picked ?? 0;
    const correctHere = p?.correct_here ?? 0;
    return { letter, picked, correctHere, pickedAndRight: p?.picked_and_right ?? 0, pickedShare: share(picked), correctShare: share(correctHere) };
  });
}

/** The letters of several position-bias tables together, sorted. */
export function unionLetters(...tables: PositionBias[]): string[] {
  return [...new Set(tables.flatMap((b) => b.positions.map((p) => p.letter)))].sort();
}
