/**
 * A failure the user can act on: bad input, a missing tool, a model that does not load.
 * The CLI prints `message` (and `hint`) without a stack trace; anything else is a bug.
 */
export class PerceiveError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PerceiveError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isPerceiveError(error: unknown): error is PerceiveError {
  return error instanceof PerceiveError;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
