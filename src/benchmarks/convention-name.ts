import { PerceiveError } from '../core/errors.js';
import type { Convention } from './benchmark-family.js';

/**
 * The convention a spec asks for (default: the family's first), or a PerceiveError listing the
 * valid ones. Families call this in `load`, so a bad `convention:` fails before any item runs.
 */
export function resolveConventionName(format: string, conventions: readonly Convention[], name: string | undefined): string {
  const first = conventions[0];
  if (first === undefined) throw new PerceiveError('no-convention', `benchmark family ${format} declares no convention`);
  if (name === undefined) return first.name;
  if (!conventions.some((c) => c.name === name)) {
    throw new PerceiveError('unknown-convention', `benchmark format ${format} has no convention ${JSON.stringify(name)}`, {
      hint: `use one of: ${conventions.map((c) => c.name).join(', ')}`,
    });
  }
  return name;
}
