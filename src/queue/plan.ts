import { createHash } from 'node:crypto';
import type { Arm } from '../arms/arm.js';
import type { Item } from '../items/item.js';

export interface Task {
  item: Item;
  arm: Arm;
}

/**
 * A bundle: every task of one image (or image pair) for one model, in prefix-cache order
 * (all prompts of an image together), so the image prefix is encoded once and reused.
 */
export interface Bundle {
  id: string;
  model: string;
  images: string[];
  tasks: Task[];
}

/**
 * Plans bundles: items grouped by (model, images), models in config order, images in the order
 * the benchmark lists them. The bundle id is a content hash of what it computes.
 */
export function planBundles(items: Item[], arms: Arm[]): Bundle[] {
  const bundles = new Map<string, Bundle>();
  for (const arm of arms) {
    for (const item of items) {
      const key = `${arm.model}\u0000${item.images.join('\u0000')}`;
      let b = bundles.get(key);
      if (!b) bundles.set(key, (b = { id: '', model: arm.model, images: item.images, tasks: [] }));
      b.tasks.push({ item, arm });
    }
  }
  for (const b of bundles.values()) {
    const h = createHash('sha256');
    h.update(b.model);
    for (const t of b.tasks) h.update(`\u0000${t.arm.modelHash}\u0000${t.arm.id}\u0000${t.item.id}\u0000${JSON.stringify(t.item.options)}`);
    b.id = h.digest('hex').slice(0, 32);
  }
  return [...bundles.values()];
}

/** Content hash of one task: model, arm, prompt, image hashes, texts, arm parameters. */
export function taskHash(parts: {
  modelHash: string;
  arm: string;
  prompt: { id: string; version: number } | undefined;
  imageHashes: string[];
  options: string[];
  params?: unknown;
}): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
