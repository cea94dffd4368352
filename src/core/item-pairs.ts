import type { Item } from './item.js';

/**
 * Image pairs made of two single-image items: the items of one benchmark and subset that share
 * `groups.pair` (What'sUp: the two images of an object pair that differ only in the relation;
 * MMVP: consecutive Questions.csv rows), exactly two of them, with different images. The first in
 * the order the items were given (the benchmark's row order) is image 1 of the pair.
 *
 * Arms see the items their `prepare` is given: a pair is found only when both items are there.
 */
export interface ItemPair {
  first: Item;
  second: Item;
}

/**
 * The key two single-image items of one pair share (benchmark, subset, `groups.pair`), or undefined.
 * A planner that puts the items with one key into one bundle gives pair-aware arms (vlm.two-image,
 * the CLIP image–image cosine) both items and both images.
 */
export function pairKey(item: Item): string | undefined {
  const pair = item.groups.pair;
  if (pair === undefined || item.images.length !== 1) return undefined;
  return `${item.benchmark}\u0000${item.subset}\u0000${pair}`;
}

export class ItemPairs {
  private readonly byItem = new Map<string, ItemPair>();

  add(items: Item[]): void {
    // Linear in the items: repeated rows share one key (a set of ids, never a scan of the list).
    const groups = new Map<string, { items: Item[]; ids: Set<string> }>();
    for (const item of items) {
      const key = pairKey(item);
      if (key === undefined) continue;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { items: [], ids: new Set() }));
      if (group.ids.has(item.id)) continue;
      group.ids.add(item.id);
      group.items.push(item);
    }
    for (const { items: list } of groups.values()) {
      if (list.length !== 2 || list[0]!.images[0] === list[1]!.images[0]) continue;
      const pair = { first: list[0]!, second: list[1]! };
      this.byItem.set(pair.first.id, pair);
      this.byItem.set(pair.second.id, pair);
    }
  }

  /** The item's pair and its position in it (0 = image 1), or undefined. */
  of(item: Item): { pair: ItemPair; position: 0 | 1; partner: Item } | undefined {
    const pair = this.byItem.get(item.id);
    if (!pair) return undefined;
    const position = pair.first.id === item.id ? 0 : 1;
    return { pair, position, partner: position === 0 ? pair.second : pair.first };
  }
}
