/**
 * Every reason a failure can carry, one closed union (as zod's own issue codes are): a sample's
 * `error.code`, a bundle's failure, a CLI error. Kebab-case; carried as data, never parsed back
 * out of a message.
 */
export const ERROR_CODES = [
  'arm-not-applicable',
  'aro-annotation-invalid',
  'aro-annotation-unreadable',
  'aro-bad-scores',
  'bad-argument',
  'bad-config',
  'bad-crop',
  'bad-environment',
  'bad-gguf',
  'bad-image',
  'bad-job',
  'bad-manifest',
  'bad-model',
  'bad-option',
  'bad-prompt',
  'bad-row',
  'bad-samples',
  'bad-scores',
  'bad-server-answer',
  'bad-usage',
  'build-failed',
  'build-tool-missing',
  'csv-invalid',
  'csv-unreadable',
  'cuda-missing',
  'disk-full',
  'error',
  'file-not-found',
  'fixture-dependency-missing',
  'fixture-vocab',
  'hard-positives-bad-scores',
  'hard-positives-invalid',
  'hard-positives-unreadable',
  'image-hash-mismatch',
  'job-failed',
  'llama-bin-missing',
  'llama-server-not-found',
  'llama-source-missing',
  'malformed-answer',
  'missing-question',
  'mmproj-mismatch',
  'mmvp-bad-header',
  'mmvp-bad-item',
  'mmvp-bad-scores',
  'mmvp-mixed-items',
  'model-mismatch',
  'model-not-found',
  'no-convention',
  'no-end-of-turn',
  'no-eos',
  'no-such-run',
  'not-a-run',
  'onnx-provider-unavailable',
  'output-unwritable',
  'port-in-use',
  'prompt',
  'quantize-failed',
  'redis-auth-failed',
  'redis-lost',
  'redis-unreachable',
  'run-stopped',
  'scores-unreadable',
  'server-check',
  'server-error',
  'server-start-failed',
  'server-timeout',
  'server-unreachable',
  'store-unreadable',
  'sugarcrepe-bad-scores',
  'sugarcrepe-bad-subset',
  'sugarcrepe-invalid',
  'sugarcrepe-pp-bad-scores',
  'sugarcrepe-pp-invalid',
  'sugarcrepe-pp-unreadable',
  'sugarcrepe-unreadable',
  'synthetic-mmvp-bad-pairs',
  'synthetic-sugarcrepe-bad-count',
  'synthetic-sugarcrepe-bad-subset',
  'synthetic-sugarcrepe-pp-bad-count',
  'synthetic-whatsup-bad-pairs',
  'synthetic-winoground-bad-count',
  'tokenizer',
  'transient',
  'unknown-benchmark',
  'unknown-benchmark-format',
  'unknown-convention',
  'unsafe-path',
  'whatsup-annotation-invalid',
  'whatsup-annotation-unreadable',
  'whatsup-bad-item',
  'whatsup-bad-limit',
  'whatsup-bad-scores',
  'whatsup-mixed-items',
  'whatsup-no-items',
  'winoground-bad-scores',
  'winoground-unreadable',
  'worker-failed',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A failure's code and message, as stored and sent between processes. */
export interface FailureReason {
  code: ErrorCode;
  message: string;
}

/**
 * A failure the user can act on: bad input, a missing tool, a model that does not load.
 * The CLI prints `message` (and `hint`) without a stack trace; anything else is a bug.
 */
export class PerceiveError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
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
