import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage, PerceiveError } from './errors.js';

/**
 * sha256 of a file, streamed (model files are gigabytes). Results are memoised in a small JSON
 * file under the cache dir keyed by (path, size, mtime), so a 4 GB GGUF is hashed once.
 */
export async function fileSha256(file: string, cacheDir?: string): Promise<string> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new PerceiveError('file-not-found', `cannot read ${file}: ${errorMessage(error)}`);
  }
  const key = `${path.resolve(file)}|${stat.size}|${stat.mtimeMs}`;
  const memo = cacheDir ? path.join(cacheDir, 'file-hashes.json') : undefined;
  let table: Record<string, string> = {};
  if (memo && fs.existsSync(memo)) {
    try {
      table = JSON.parse(fs.readFileSync(memo, 'utf8')) as Record<string, string>;
    } catch {
      table = {};
    }
    const hit = table[key];
    if (hit) return hit;
  }
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  const digest = hash.digest('hex');
  if (memo && stat.size > MEMO_MIN_BYTES) {
    try {
      fs.mkdirSync(path.dirname(memo), { recursive: true });
      table[key] = digest;
      fs.writeFileSync(`${memo}.${process.pid}.tmp`, JSON.stringify(table));
      fs.renameSync(`${memo}.${process.pid}.tmp`, memo);
    } catch {
      /* the memo is an optimisation only */
    }
  }
  return digest;
}

/** The memoised sha256 of a file if `fileSha256` recorded it for its current size and mtime; never hashes. */
export function memoisedSha256(file: string, cacheDir: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    const table = JSON.parse(fs.readFileSync(path.join(cacheDir, 'file-hashes.json'), 'utf8')) as Record<string, string>;
    return table[`${path.resolve(file)}|${stat.size}|${stat.mtimeMs}`];
  } catch {
    return undefined;
  }
}

/** Files up to this size are hashed on every call (not memoised): hashing them is cheaper than the memo. */
export const MEMO_MIN_BYTES = 16 * 1024 * 1024;

/** sha256 over several files' hashes, in order (a model made of several files). */
export async function filesSha256(files: string[], cacheDir?: string): Promise<string> {
  const parts: string[] = [];
  for (const f of files) parts.push(await fileSha256(f, cacheDir));
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/**
 * sha256 of many small files (a suite's images) through one reused read buffer: no Buffer per file,
 * so hashing 100,000 images allocates no external memory for V8 to account for (a `readFile` per
 * image made the garbage collector's work grow with the run's heap).
 */
export class SmallFileHasher {
  private buffer = Buffer.allocUnsafe(1 << 20);

  async sha256(file: string): Promise<string> {
    const handle = await fs.promises.open(file, 'r');
    try {
      const hash = createHash('sha256');
      for (;;) {
        const { bytesRead } = await handle.read(this.buffer, 0, this.buffer.length, null);
        if (bytesRead === 0) break;
        hash.update(this.buffer.subarray(0, bytesRead));
      }
      return hash.digest('hex');
    } finally {
      await handle.close();
    }
  }
}
