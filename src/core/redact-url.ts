/**
 * Credentials in URLs never reach the console, manifest.json or log.jsonl: a password in the
 * user-info part (`redis://user:pw@host`, `redis://:pw@host`, `rediss://…`) and credential-like
 * query parameters (`?password=…`, `&token=…`, `api_key`, …) are replaced by `***`.
 */
const SECRET_PARAMS = /^(pass(word)?|pwd|secret|token|access_token|auth|api[-_]?key|key|credentials?)$/i;

/** One URL with its credentials replaced by `***`. */
export function redactUrl(url: string): string {
  return redactCredentials(url);
}

/** Every URL in a piece of text (a message, a log line) with its credentials replaced by `***`. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>]*)/gi, (_m, scheme: string, rest: string) => scheme + redactRest(rest));
}

function redactRest(rest: string): string {
  // user-info: everything before the last '@' of the authority
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  let tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  let auth = authority;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const info = authority.slice(0, at);
    const colon = info.indexOf(':');
    const user = colon === -1 ? '' : info.slice(0, colon);
    // `redis://secret@host` (no colon): ioredis reads it as the password for the default user.
    auth = `${colon === -1 ? '***' : `${user}:***`}@${authority.slice(at + 1)}`;
  }
  const q = tail.indexOf('?');
  if (q !== -1) {
    const hash = tail.indexOf('#', q);
    const query = tail.slice(q + 1, hash === -1 ? undefined : hash);
    const redacted = query
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1) return pair;
        return SECRET_PARAMS.test(decodeSafe(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=***` : pair;
      })
      .join('&');
    tail = `${tail.slice(0, q + 1)}${redacted}${hash === -1 ? '' : tail.slice(hash)}`;
  }
  return auth + tail;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
