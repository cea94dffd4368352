import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** The folder beside report.html that holds the thumbnails (`thumbs/<name>.jpg`). */
export const THUMBS_DIR = 'thumbs';

/** Longest side of a thumbnail in pixels (never enlarged). */
const THUMB_SIZE = 96;

export interface ImageRef {
  path: string;
  sha256: string;
}

/**
 * The thumbnail's file name of an image: the first 16 hex digits of its recorded sha256 (the
 * image's content, so a thumbnail is written once whatever the run), or of the path's sha256 when
 * the sample records no usable hash (hand-made or older samples).
 */
export function thumbnailName(image: ImageRef): string {
  const hex = /^[0-9a-f]{64}$/i.test(image.sha256) ? image.sha256.toLowerCase() : createHash('sha256').update(`path:${image.path}`).digest('hex');
  return `${hex.slice(0, 16)}.jpg`;
}

export interface ThumbnailTally {
  /** Thumbnails written now. */
  written: number;
  /** Thumbnails already in the folder (not made again). */
  present: number;
  /** Images that could not be read or decoded (their rows show the file name instead). */
  unreadable: number;
  /** The names (thumbnailName) that exist in the folder after this call. */
  available: Set<string>;
}

/**
 * Writes one small JPEG per distinct image into `<dir>/thumbs/`, skipping those already there.
 * sharp decodes, resizes and encodes on its own thread pool; at most `concurrency` images are in
 * flight (default 128: sharp decodes on its 4 libuv threads, and the queued rest keeps them busy
 * while the main thread runs the analysis and cannot hand out more; each writes its file itself, so
 * no image bytes wait in JavaScript), so memory stays bounded whatever the image count. A thumbnail is
 * written through a temporary file and a rename (a stopped report never leaves half a JPEG).
 */
export async function writeThumbnails(dir: string, images: Iterable<ImageRef>, options: { concurrency?: number } = {}): Promise<ThumbnailTally> {
  const folder = path.join(dir, THUMBS_DIR);
  fs.mkdirSync(folder, { recursive: true });
  const existing = new Set(fs.readdirSync(folder).filter((f) => f.endsWith('.jpg')));
  const tally: ThumbnailTally = { written: 0, present: 0, unreadable: 0, available: new Set() };
  const todo: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const image of images) {
    const name = thumbnailName(image);
    if (seen.has(name)) continue;
    seen.add(name);
    if (existing.has(name)) {
      tally.present++;
      tally.available.add(name);
    } else todo.push([name, image.path]);
  }
  const concurrency = Math.max(1, options.concurrency ?? 128);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < todo.length) {
      const [name, file] = todo[next++]!;
      const target = path.join(folder, name);
      const tmp = `${target}.${process.pid}.tmp`;
      try {
        await sharp(file).resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 70 }).toFile(tmp);
        fs.renameSync(tmp, target);
        tally.written++;
        tally.available.add(name);
      } catch {
        fs.rmSync(tmp, { force: true });
        tally.unreadable++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, work));
  return tally;
}
