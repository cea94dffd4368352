import type { z } from 'zod';

/** A row's validation problems as `field <path>: <message>` (`(row)` for the row itself), joined by "; ". */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `field ${issue.path.length === 0 ? '(row)' : issue.path.map(String).join('.')}: ${issue.message}`)
    .join('; ');
}
