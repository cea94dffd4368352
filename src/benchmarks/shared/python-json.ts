/**
 * A JSON line as Python's `json.dumps` writes it by default (`allow_nan=True`): besides standard JSON
 * it may hold the bare tokens `NaN`, `Infinity` and `-Infinity`, which `JSON.parse` refuses. They are
 * read here as the numbers they stand for, and `nonFinitePaths` names where they are, so a caller can
 * fail that item with the reason instead of losing the line.
 */

const TOKENS = ['-Infinity', 'Infinity', 'NaN'] as const;
const SENTINEL = '\u0000python-json:';

/** Parses one line; throws SyntaxError (as JSON.parse) when it is not JSON even with Python's tokens. */
export function parsePythonJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = TOKENS.find((t) => text.startsWith(t, i));
    if (token !== undefined) {
      out += JSON.stringify(SENTINEL + token);
      i += token.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out, (_key, value: unknown) => {
    if (typeof value !== 'string' || !value.startsWith(SENTINEL)) return value;
    const token = value.slice(SENTINEL.length);
    return token === 'NaN' ? Number.NaN : token === 'Infinity' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  });
}

/** `scores[0][1] is NaN`-style descriptions of every non-finite number in `value` (depth-first). */
export function nonFinitePaths(value: unknown, at = ''): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${at === '' ? '(value)' : at} is ${String(value)}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinitePaths(v, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => nonFinitePaths(v, at === '' ? k : `${at}.${k}`));
  }
  return [];
}
