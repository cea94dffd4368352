import { isPerceiveError, PerceiveError } from '../core/errors.js';

/**
 * A run's fatal error, named: a full disk (SQLite's SQLITE_FULL, ENOSPC) or an output folder that
 * cannot be written (EACCES, EROFS, EPERM, ENOTDIR) become 'disk-full' and 'output-unwritable'
 * with what is safe and the command that resumes the run; a PerceiveError without a hint gets
 * the resume command. Anything else is returned as it is (a bug).
 */
export function fatalRunError(error: unknown, where: { output: string; store: string; resume: string | undefined }): unknown {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const resume = where.resume ? `; then resume with: ${where.resume}` : '';
  if (isPerceiveError(error)) return error;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new PerceiveError('disk-full', `the disk holding ${where.output} is full (${message}); the store ${where.store} holds every task that finished`, {
      hint: `free some space${resume}`,
      cause: error,
    });
  }
  if (['EACCES', 'EROFS', 'EPERM', 'ENOTDIR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR_WRITE'].includes(code)) {
    return new PerceiveError(
      'output-unwritable',
      `cannot write under the output folder ${where.output} (${code}: ${message}); the store ${where.store} holds every task that finished`,
      {
        hint: `make ${where.output} writable, or set output: in the config to a folder that is${resume}`,
        cause: error,
      },
    );
  }
  return error;
}
