import { z } from 'zod';
import type { ArmDefinition } from './arm-definition.js';
import { CLIP_ARM } from './clip/clip-arm.js';
import { CLIP_DENSE_ARM } from './clip/clip-dense-arm.js';
import { CLIP_KIND } from './clip/clip-kind.js';
import { PROBE_ARM } from './clip/probe-arm.js';
import { LLAMA_ARMS } from './llama/llama-arms.js';
import { LLAMA_KIND } from './llama/llama-kind.js';
import type { ModelKind } from './model-kind.js';
import { SIGLIP_KIND } from './siglip/siglip-kind.js';

/**
 * Every model kind and every arm. A new kind is one folder under src/models/ plus one line in
 * MODEL_KINDS; a new arm is one definition in its kind's folder plus its entry in ARMS. The config
 * schema, the manifest, the planner and the worker find them here.
 */
export const MODEL_KINDS = [LLAMA_KIND, CLIP_KIND, SIGLIP_KIND] as const;

export const ARMS = [CLIP_ARM, CLIP_DENSE_ARM, PROBE_ARM, ...LLAMA_ARMS] as const;

type SchemasOf<T extends readonly { schema: z.ZodObject }[]> = { -readonly [K in keyof T]: T[K]['schema'] };

function schemas<T extends readonly { schema: z.ZodObject }[]>(entries: T): SchemasOf<T> {
  return entries.map((e) => e.schema) as SchemasOf<T>;
}

/** The config's `models.<name>`: one member per kind. */
export const ModelSpecSchema = z.discriminatedUnion('kind', schemas(MODEL_KINDS));
/** The config's `arms[]`: one member per arm. */
export const ArmSpecSchema = z.discriminatedUnion('arm', schemas(ARMS));

export type ModelSpec = z.output<typeof ModelSpecSchema>;
export type ArmSpec = z.output<typeof ArmSpecSchema>;

export function modelKind(kind: string): ModelKind {
  const found = MODEL_KINDS.find((k) => k.kind === kind);
  if (!found) throw new Error(`unknown model kind ${kind} (the config schema admits only registered kinds)`);
  return found as unknown as ModelKind;
}

export function armDefinition(arm: string): ArmDefinition {
  const found = ARMS.find((a) => a.arm === arm);
  if (!found) throw new Error(`unknown arm ${arm} (the config schema admits only registered arms)`);
  return found as unknown as ArmDefinition;
}

/**
 * The id an arm's results carry (samples.jsonl `arm`, the report's columns): `label` when given,
 * else what the arm's definition says (a vlm2vec prompt variant: `vlm2vec.question.<name>`), else
 * the arm name. Ids are unique within a config, so one run can hold several settings of one arm.
 */
export function armSpecId(spec: ArmSpec): string {
  if ('label' in spec && spec.label) return spec.label;
  return armDefinition(spec.arm).id?.(spec) ?? spec.arm;
}
