import { z } from 'zod';
import type { Item } from './item.js';
import { mulberry32 } from './seeded-random.js';

/**
 * The order in which a letter-scored arm presents an item's options (issue 15).
 *
 * - `fixed`: the file's order (MMVP's protocol: its paper and lmms-eval present `(a)`/`(b)` as
 *   Questions.csv lists them).
 * - `shuffled`: one seeded permutation per item, keyed by the benchmark's seed and the item id.
 * - `circular`: every rotation of the file's order, one call per rotation (MMBench's CircularEval:
 *   open-compass/MMBench, "CircularEval": a question counts right only if it is right under every
 *   rotation of its options).
 *
 * A permutation `perm` maps a presented position to a file option: `perm[p]` is the file index of
 * the option shown at letter position p. Scores come back in presented order and are mapped back
 * (`depermute`) to the file's order, so every metric reads the file's order.
 */
export const OPTION_ORDERS = ['fixed', 'shuffled', 'circular'] as const;
export type OptionOrder = (typeof OPTION_ORDERS)[number];
export const OptionOrderSchema = z.enum(OPTION_ORDERS);

/** Groups keys a run stamps on every item: the family's default order and the benchmark's seed. */
export const OPTION_ORDER_DEFAULT_KEY = 'option_order_default';
export const OPTION_SEED_KEY = 'option_seed';

/** The item with its benchmark's default option order and seed stamped in `groups` (not hashed: `groups` is not part of a task hash). */
export function stampOptionOrder(item: Item, defaultOrder: OptionOrder, seed: number): Item {
  return { ...item, groups: { ...item.groups, [OPTION_ORDER_DEFAULT_KEY]: defaultOrder, [OPTION_SEED_KEY]: String(seed) } };
}

/**
 * The order an arm uses on an item: the config's `option_order` when set, else the default its
 * benchmark family declares (stamped on the item by the run), else `fixed` (an item that was not
 * loaded through a run keeps the file's order).
 */
export function effectiveOptionOrder(configured: OptionOrder | undefined, item: Pick<Item, 'groups'>): OptionOrder {
  if (configured !== undefined) return configured;
  const stamped = OptionOrderSchema.safeParse(item.groups[OPTION_ORDER_DEFAULT_KEY]);
  return stamped.success ? stamped.data : 'fixed';
}

/** FNV-1a 32-bit of a string (the seed of a per-item stream). */
function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The item's seeded permutation of n options: Fisher–Yates on mulberry32(FNV-1a(`option-order|<seed>|<item id>`)). */
export function seededPermutation(n: number, seed: number, itemId: string): number[] {
  const next = mulberry32(fnv1a(`option-order|${seed}|${itemId}`));
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return perm;
}

/** Rotation r of n options: position p shows file option (p + r) mod n (rotation 0 is the file's order). */
export function rotation(n: number, r: number): number[] {
  return Array.from({ length: n }, (_, p) => (p + r) % n);
}

/** The permutations an order presents an item's options in: one for fixed and shuffled, n for circular. */
export function optionPermutations(order: OptionOrder, item: Pick<Item, 'id' | 'options' | 'groups'>): number[][] {
  const n = item.options.length;
  if (order === 'fixed') return [rotation(n, 0)];
  if (order === 'circular') return Array.from({ length: n }, (_, r) => rotation(n, r));
  const seed = Number(item.groups[OPTION_SEED_KEY] ?? 0);
  return [seededPermutation(n, Number.isInteger(seed) ? seed : 0, item.id)];
}

/** The options as presented under `perm`. */
export function permuteOptions<T>(options: readonly T[], perm: readonly number[]): T[] {
  return perm.map((k) => options[k]!);
}

/** A row of scores in presented order mapped back to the file's order: out[perm[p]] = row[p]. */
export function depermute(row: readonly number[], perm: readonly number[]): number[] {
  if (row.length !== perm.length) throw new Error(`depermute: ${row.length} scores for ${perm.length} positions`);
  const out = new Array<number>(row.length);
  perm.forEach((k, p) => {
    out[k] = row[p]!;
  });
  return out;
}

/** Per-option mean of rows already in the file's order (how circular combines its rotations). */
export function meanRows(rows: readonly (readonly number[])[]): number[] {
  const n = rows[0]?.length ?? 0;
  return Array.from({ length: n }, (_, k) => rows.reduce((s, r) => s + r[k]!, 0) / rows.length);
}

/** The first maximum of a row (the pick every argmax metric reads). */
export function firstMax(row: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

/**
 * The task parameters of an arm on one item: the arm's `params` with its `option_order` setting
 * replaced by the item's effective order; `fixed` removes the key, so fixed tasks hash as before
 * option orders existed (stored results stay valid); `shuffled` adds the item's permutation (the
 * task hash covers no item id, so the permutation itself must be in it).
 */
export function taskParams(params: unknown, item: Pick<Item, 'id' | 'options' | 'groups'>): unknown {
  if (!params || typeof params !== 'object' || !('option_order' in params)) return params;
  const { option_order: setting, ...rest } = params as Record<string, unknown>;
  const configured = setting === 'benchmark' ? undefined : OptionOrderSchema.parse(setting);
  const order = effectiveOptionOrder(configured, item);
  if (order === 'fixed') return rest;
  if (order === 'shuffled') return { ...rest, option_order: order, option_permutation: optionPermutations(order, item)[0] };
  return { ...rest, option_order: order };
}

/** What a letter-scored arm records about its option order in a sample's `extra`. */
export interface OptionOrderExtra {
  option_order: OptionOrder;
  /** presented position → file option, one per call round (circular: one per rotation). */
  option_permutations: number[][];
  /** [round][image]: the letter position picked (first maximum in presented order). */
  position_picks: number[][];
  /** [round][image]: the letter position the correct option was shown at. */
  position_correct: number[][];
  /** [round][image][option]: the round's scores in the file's order (CircularEval judges each). */
  round_scores: number[][][];
}

/**
 * The combined outcome of one or more presentation rounds: `rounds[r][image]` is round r's score
 * row in presented order under `perms[r]`. Returns the file-order matrix (the mean over rounds of
 * the de-permuted rows; one round: the de-permuted row itself) and the extra to record.
 */
export function combineRounds(order: OptionOrder, perms: number[][], rounds: number[][][], correct: number[]): { scores: number[][]; extra: OptionOrderExtra } {
  const roundScores = rounds.map((rows, r) => rows.map((row) => depermute(row, perms[r]!)));
  const images = rounds[0]?.length ?? 0;
  const scores = Array.from({ length: images }, (_, i) => (roundScores.length === 1 ? roundScores[0]![i]! : meanRows(roundScores.map((m) => m[i]!))));
  return {
    scores,
    extra: {
      option_order: order,
      option_permutations: perms,
      position_picks: rounds.map((rows) => rows.map((row) => firstMax(row))),
      position_correct: perms.map((perm) => correct.map((c) => perm.indexOf(c))),
      round_scores: roundScores,
    },
  };
}
