import { mulberry32 } from '../core/seeded-random.js';

/**
 * Seeded randomness for loaders (word-order shuffles, the VLM2Vec question's flip): a stream keyed
 * by a string, so a row's draw does not depend on which other rows were loaded. FNV-1a 32-bit hash
 * of the key seeds mulberry32.
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A uniform [0, 1) stream (mulberry32) for a key. */
export function seededStream(key: string): () => number {
  return mulberry32(hashKey(key));
}
