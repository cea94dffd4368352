import type { z } from 'zod';
import type { Arm } from './arm.js';
import type { CapabilitySet, CapabilityTypes } from './capabilities.js';

/**
 * An arm as the config names it (`arms[].arm`): its config schema and how it is built on the
 * capabilities of a started model. A new arm is one definition in its model kind's folder and one
 * entry in src/models/registry.ts.
 */
export interface ArmDefinition<S extends z.ZodObject = z.ZodObject, N extends CapabilitySet = CapabilitySet> {
  /** The config's `arms[].arm` (also the samples' `arm_kind`). */
  readonly arm: string;
  readonly schema: S;
  /** The capability set of the model it runs on (checked against the model's kind in the config). */
  readonly needs: N;
  /** The arm's result id when the default (`label`, else the arm name) is not enough. */
  id?(spec: z.output<S>): string;
  /**
   * The arm on a model's capabilities. Must not call them (plans build arms on a stand-in that only
   * carries the model hash, so nothing starts); `id` is the arm's result id (armSpecId).
   */
  create(spec: z.output<S>, capabilities: CapabilityTypes[N], id: string): Arm;
}

export function defineArm<S extends z.ZodObject, N extends CapabilitySet>(arm: ArmDefinition<S, N>): ArmDefinition<S, N> {
  return arm;
}
