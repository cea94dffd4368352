/**
 * The versioned errata table of known MMVP label problems, applied by default. The uncorrected
 * figure is always reported beside the corrected one (see `metrics.ts`).
 *
 * Sources (read 2026-11-22):
 * - tsb0601/MMVP issue #14 (2024-03-31): Questions.csv rows 279/280 ("Is the elderly person standing or
 *   sitting in the picture?", `(a) Standing (b) Sitting`) have their answers inverted: 279 shows a person
 *   sitting → (b), 280 a person standing → (a). Uses the 1-based `Index` column / image file names.
 * - tsb0601/MMVP issue #30 (2026-01-20): indices 99, 100, 279, 280 are wrong.
 * - EvolvingLMMs-Lab/lmms-eval issue #1018 (2026-01-22): a visual check confirmed two errors, first written
 *   with 0-based indices ("Index 99 (Pair 49)", "Index 279 (Pair 139)"), i.e. the second member of each
 *   of the pairs (99, 100) and (279, 280) in 1-based `Index` terms; the index base is what the thread disputes.
 * - lmms-eval PR #1028 (merged) added the `mmvp` task; its README and `utils.py` docstring at
 *   `EvolvingLMMs-Lab/lmms-eval@75571cfe0fa36ca5ec2e6aa2bb268f9d38295af3:lmms_eval/tasks/mmvp/README.md`
 *   settle it in 1-based `Index` values: 99 (a)→(b), 100 (b)→(a), 279 (a)→(b), 280 (b)→(a), applied in the
 *   `lmms-lab-eval/MMVP` dataset. PRs #1495 / #1525 (closed, not merged) proposed applying the same four
 *   corrections idempotently in code; that is what this table does.
 *
 * An erratum is applied only when the row's `Index` and question match and the file still holds the
 * original label; a file that already has the corrected label (e.g. lmms-lab-eval/MMVP) is left as is
 * and reported as `already_corrected` (its uncorrected figure still uses the original MMVP label).
 */

export interface MmvpErratum {
  /** 1-based `Index` column value (= the image file name `<Index>.jpg`). */
  index: number;
  /** A phrase the row's question must contain, so a reordered file is never "corrected" blindly. */
  questionContains: string;
  /** The label in the original Questions.csv. */
  from: '(a)' | '(b)';
  /** The verified label. */
  to: '(a)' | '(b)';
  sources: string[];
}

export interface MmvpErrataTable {
  version: string;
  entries: MmvpErratum[];
}

const ISSUE_14 = 'https://github.com/tsb0601/MMVP/issues/14';
const ISSUE_30 = 'https://github.com/tsb0601/MMVP/issues/30';
const LMMS_1018 = 'https://github.com/EvolvingLMMs-Lab/lmms-eval/issues/1018';
const LMMS_README = 'EvolvingLMMs-Lab/lmms-eval@75571cf:lmms_eval/tasks/mmvp/README.md';

export const MMVP_ERRATA_V1: MmvpErrataTable = {
  version: 'mmvp-errata-v1',
  entries: [
    { index: 99, questionContains: 'tusks', from: '(a)', to: '(b)', sources: [ISSUE_30, LMMS_1018, LMMS_README] },
    { index: 100, questionContains: 'tusks', from: '(b)', to: '(a)', sources: [ISSUE_30, LMMS_1018, LMMS_README] },
    { index: 279, questionContains: 'standing or sitting', from: '(a)', to: '(b)', sources: [ISSUE_14, ISSUE_30, LMMS_1018, LMMS_README] },
    { index: 280, questionContains: 'standing or sitting', from: '(b)', to: '(a)', sources: [ISSUE_14, ISSUE_30, LMMS_1018, LMMS_README] },
  ],
};

export type ErratumStatus = 'applied' | 'already_corrected' | 'question_mismatch' | 'label_mismatch';

export interface ErratumOutcome {
  index: number;
  status: ErratumStatus;
  /** Option index (0 = (a), 1 = (b)) before and after. */
  originalCorrect: number;
  correctedCorrect: number;
}

/**
 * What the table does to one row: `undefined` when no entry names this Index. `label` is the row's
 * normalised answer letter index (0 = a, 1 = b).
 */
export function applyErratum(table: MmvpErrataTable, index: number, question: string, label: number): ErratumOutcome | undefined {
  const entry = table.entries.find((e) => e.index === index);
  if (entry === undefined) return undefined;
  const from = entry.from === '(a)' ? 0 : 1;
  const to = entry.to === '(a)' ? 0 : 1;
  if (!question.toLowerCase().includes(entry.questionContains)) {
    return { index, status: 'question_mismatch', originalCorrect: label, correctedCorrect: label };
  }
  // The file already holds the verified label (lmms-lab-eval/MMVP): the uncorrected figure still uses
  // the original MMVP label, so both figures mean the same thing whichever copy was read.
  if (label === to) return { index, status: 'already_corrected', originalCorrect: from, correctedCorrect: to };
  if (label !== from) return { index, status: 'label_mismatch', originalCorrect: label, correctedCorrect: label };
  return { index, status: 'applied', originalCorrect: label, correctedCorrect: to };
}
