import type { ArmSpec, ExperimentConfig } from '../config/experiment.js';
import type { Environment } from '../core/environment.js';
import type { Arm } from '../models/arm.js';
import { armDefinition, armSpecId, modelKind } from '../models/registry.js';
import type { ArmIdentity } from './plan.js';

/** An arm's identity as recorded in plans and jobs. */
export function identityOf(arm: Arm, spec: ArmSpec): ArmIdentity {
  return { spec, id: arm.id, model: arm.model, modelHash: arm.modelHash, prompt: arm.prompt ?? null, params: arm.params ?? null };
}

/**
 * Every arm of a config as an identity (id, prompt, params, model hash), built through its
 * definition on a stand-in that only carries the model hash (`ModelKind.hash`, computed without
 * starting the model): arms must not call their capabilities in the constructor. The run process
 * plans with these; workers build the real arms.
 */
export async function armIdentities(config: ExperimentConfig, env: Environment): Promise<ArmIdentity[]> {
  const hashes = new Map<string, string>();
  const out: ArmIdentity[] = [];
  for (const spec of config.arms) {
    const model = config.models[spec.model];
    if (!model) throw new Error(`unreachable: arm ${spec.arm} names model ${spec.model}, checked in the config`);
    let hash = hashes.get(spec.model);
    if (!hash) hashes.set(spec.model, (hash = await modelKind(model.kind).hash(model, env)));
    const hashOnly = { modelHash: hash };
    out.push(identityOf(armDefinition(spec.arm).create(spec, hashOnly as never, armSpecId(spec)), spec));
  }
  return out;
}
