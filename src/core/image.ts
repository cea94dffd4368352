import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { errorMessage, PerceiveError } from './errors.js';
import type { ImageInput } from './image-input.js';

/** An image file read from disk, checked to decode, with the sha256 of its bytes. */
export interface LoadedImage extends ImageInput {
  path: string;
  width: number;
  height: number;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Reads and validates one image. A missing or corrupt file is a PerceiveError('bad-image')
 * naming the file, so the item that needs it fails with a reason and the run goes on.
 */
export async function loadImage(file: string): Promise<LoadedImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new PerceiveError('bad-image', `cannot read image ${file}: ${errorMessage(error)}`);
  }
  try {
    // Decoding the whole image (not just the header) catches truncated files.
    const { info } = await sharp(bytes, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
    return { path: file, bytes, sha256: sha256Hex(bytes), width: info.width, height: info.height };
  } catch (error) {
    throw new PerceiveError('bad-image', `corrupt or unsupported image ${file}: ${errorMessage(error)}`);
  }
}
