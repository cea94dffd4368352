import { z } from 'zod';

/**
 * A zod error as `field <path>: <message>` per issue (paths in zod's own dot notation,
 * `z.core.toDotPath`: `arms[0].model`; `(root)` for the value itself), joined by "; ". At most
 * `limit` issues, with a count of the rest. Callers prefix the file, row or endpoint.
 */
export function describeZodIssues(error: z.ZodError, options: { limit?: number; root?: string } = {}): string {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const shown = error.issues
    .slice(0, limit)
    .map((issue) => `field ${issue.path.length === 0 ? (options.root ?? '(root)') : z.core.toDotPath(issue.path)}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}
