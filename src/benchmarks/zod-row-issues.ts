import type { z } from 'zod';
import { describeZodIssues as describe } from '../core/zod-issues.js';

/** A row's validation problems as `field <path>: <message>` (`(row)` for the row itself), joined by "; ". */
export function describeZodIssues(error: z.ZodError): string {
  return describe(error, { root: '(row)' });
}
