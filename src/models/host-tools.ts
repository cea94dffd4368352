import type { Environment } from '../core/environment.js';
import type { HostTools, ModelKind, SetupProgress } from './model-kind.js';
import { MODEL_KINDS, modelKind } from './registry.js';

/** Tools given by hand, by kind (tests and benches: `hostTools({ llama: binaries })`). */
export function hostTools(byKind: Record<string, unknown>): HostTools {
  return new Map(Object.entries(byKind));
}

/** The tools the given kinds need, as found on this host (nothing is built). */
export function findHostTools(kinds: Iterable<string>, env: Environment): HostTools {
  const tools = new Map<string, unknown>();
  for (const kind of new Set(kinds)) {
    const found = modelKind(kind).findTools?.(env);
    if (found !== undefined) tools.set(kind, found);
  }
  return tools;
}

/** The tools the given kinds need, built where missing (`perceive setup` for llama-server). */
export async function setupHostTools(kinds: Iterable<string>, env: Environment, progress: SetupProgress): Promise<HostTools> {
  const tools = new Map<string, unknown>();
  for (const kind of new Set(kinds)) {
    const k = modelKind(kind);
    const found = k.findTools?.(env) ?? (await k.setupTools?.(env, progress));
    if (found !== undefined) tools.set(kind, found);
  }
  return tools;
}

/** What the manifest records of the tools, every registered kind's fields (null where unused). */
export function describeHostTools(tools: HostTools): Record<string, unknown> {
  return Object.assign({}, ...MODEL_KINDS.map((k) => (k as unknown as ModelKind).describeTools?.(tools.get(k.kind)) ?? {}));
}
