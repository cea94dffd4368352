import { PerceiveError } from '../core/errors.js';
import type { BenchmarkFamily, BenchmarkFormat, BenchmarkSubset, Convention } from './benchmark-family.js';
import { resolveConventionName } from './convention-name.js';
import { hardPositivesFamily } from './hard-positives/family.js';
import { mmvpFamily } from './mmvp/family.js';
import { mmvpClipFamily, mmvpVlmFamily } from './mmvp-vlm/family.js';
import { aroOrderFamily, aroVgFamily } from './aro/family.js';
import { sugarCrepeFamily } from './sugarcrepe/family.js';
import { sugarCrepePpFamily } from './sugarcrepe-pp/family.js';
import { winogroundFamily } from './winoground/family.js';
import { whatsupControlledFamily } from './whatsup/family.js';
import { whatsupQaFamily } from './whatsup/qa-family.js';
import { withWordOrder } from './word-order/word-order.js';

/**
 * Every benchmark family, by config `format`. To add a family: write its folder and add
 * one line here (the config's `format` enum is built from this list); `perceive metrics` and
 * `perceive data check` find it through `allFamilies()` / `findSubset()` with no further edits.
 */
const FAMILIES: readonly BenchmarkFamily[] = [
  whatsupControlledFamily,
  whatsupQaFamily,
  hardPositivesFamily,
  mmvpFamily,
  mmvpVlmFamily,
  mmvpClipFamily,
  aroVgFamily,
  aroOrderFamily,
  sugarCrepeFamily,
  winogroundFamily,
  sugarCrepePpFamily,
];

/** Wrapped once so that `word_order` works for every family. */
const WRAPPED = new Map<BenchmarkFormat, BenchmarkFamily>(FAMILIES.map((fam) => [fam.format, withWordOrder(fam)]));

/** The config's `format` values, in registry order. */
export function benchmarkFormats(): BenchmarkFormat[] {
  return FAMILIES.map((f) => f.format);
}

export function benchmarkFamily(format: BenchmarkFormat): BenchmarkFamily {
  const family = WRAPPED.get(format);
  if (family === undefined) throw new PerceiveError('unknown-benchmark-format', `no benchmark family for format ${JSON.stringify(format)}`);
  return family;
}

export function allFamilies(): BenchmarkFamily[] {
  return [...WRAPPED.values()];
}

/** The family and subset a `--benchmark NAME` names, or undefined. */
export function findSubset(name: string): { family: BenchmarkFamily; subset: BenchmarkSubset } | undefined {
  for (const family of WRAPPED.values()) {
    const subset = family.subsets.find((s) => s.name === name);
    if (subset !== undefined) return { family, subset };
  }
  return undefined;
}

/** Every `--benchmark` name, for help texts and errors. */
export function allSubsetNames(): string[] {
  return allFamilies().flatMap((f) => f.subsets.map((s) => s.name));
}

/** The named convention of a family (default: its first), or a PerceiveError listing the valid ones. */
export function resolveConvention(family: BenchmarkFamily, name: string | undefined): Convention {
  const chosen = resolveConventionName(family.format, family.conventions, name);
  return family.conventions.find((c) => c.name === chosen) as Convention;
}
