/**
 * One line of `perceive doctor`: what was checked, the verdict, and what to do about it. Each
 * layer that owns a check returns these from plain inputs (a policy string, byte counts, core
 * counts), so every verdict is unit-testable without the service it describes.
 */
export type CheckStatus = 'ok' | 'warning' | 'error';

export interface CheckVerdict {
  status: CheckStatus;
  /** What was checked: `redis`, `disk`, `model llava`, … */
  subject: string;
  /** What was found. */
  message: string;
  /** What to do (warnings and errors). */
  fix?: string;
}

/** A verdict; `fix` only when there is one. */
export function verdict(status: CheckStatus, subject: string, message: string, fix?: string): CheckVerdict {
  return fix === undefined ? { status, subject, message } : { status, subject, message, fix };
}

/** Whether any verdict is an error (doctor's exit code 1). */
export function hasError(verdicts: readonly CheckVerdict[]): boolean {
  return verdicts.some((v) => v.status === 'error');
}
