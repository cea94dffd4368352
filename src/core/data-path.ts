import { constants as fsConstants, realpathSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Image paths from annotation files never escape the data dir: an absolute path, a Windows drive
 * or UNC path, or a `..` segment is refused with a named reason (the row fails, the others load).
 */
export function unsafeDataPathReason(relative: string): string | undefined {
  if (relative === '') return 'is empty';
  if (relative.includes('\0')) return 'contains a NUL byte';
  const posix = relative.replace(/\\/g, '/');
  if (posix.startsWith('/') || /^[A-Za-z]:/.test(posix) || path.isAbsolute(relative)) {
    return `is an absolute path (${JSON.stringify(relative)}); image paths must be relative to the data dir`;
  }
  if (posix.split('/').some((s) => s === '..')) {
    return `climbs out of the data dir with ".." (${JSON.stringify(relative)})`;
  }
  return undefined;
}

/**
 * `dataDir/relative`, or a reason string when `relative` is unsafe or would resolve outside
 * `dataDir` (checked again after joining, belt and braces).
 */
export function joinInsideDataDir(dataDir: string, relative: string): string | { reason: string } {
  const unsafe = unsafeDataPathReason(relative);
  if (unsafe !== undefined) return { reason: unsafe };
  const root = path.resolve(dataDir);
  const full = path.resolve(root, relative.replace(/\\/g, '/'));
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    return { reason: `resolves outside the data dir ${root} (${JSON.stringify(relative)})` };
  }
  const outside = realPathOutsideReason(root, full);
  if (outside !== undefined) return { reason: outside };
  return full;
}

/**
 * Why `file` may not be read as data of `dataDir`, or undefined: its real path (symlinks resolved,
 * of the folder too) leaves the real data folder: a symlink to /etc/passwd, or to an image outside
 * the data set, is refused by name. A file that does not exist is not refused here (a missing
 * image is its own failure).
 */
export function realPathOutsideReason(dataDir: string, file: string): string | undefined {
  let realFile: string;
  let realRoot: string;
  try {
    realFile = realpathSync(file);
    realRoot = realpathSync(dataDir);
  } catch {
    return undefined;
  }
  const rel = path.relative(realRoot, realFile);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    return `${file} is a link to ${realFile}, outside the data dir ${realRoot}`;
  }
  return undefined;
}

/** True when `file` is a readable regular file. */
export async function isReadableFile(file: string): Promise<boolean> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return false;
    await access(file, fsConstants.R_OK);
    return true;
  } catch {
    return false;
  }
}
