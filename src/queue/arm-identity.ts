import type { Arm } from '../arms/arm.js';
import { createArm } from '../arms/arm-factory.js';
import type { ArmSpec, ExperimentConfig, ModelSpec } from '../config/experiment.js';
import type { Environment } from '../config/environment.js';
import { PerceiveError } from '../errors.js';
import { filesSha256 } from '../items/file-hash.js';
import { ClipEncoder } from '../runners/clip/clip-encoder.js';
import type { ContrastiveEncoder } from '../runners/runner.js';
import type { LlamaRunner } from '../runners/llama/llama-runner.js';
import type { ArmIdentity } from './plan.js';

/** An arm's identity as recorded in plans and jobs. */
export function identityOf(arm: Arm, spec: ArmSpec): ArmIdentity {
  return { spec, id: arm.id, model: arm.model, modelHash: arm.modelHash, prompt: arm.prompt ?? null, params: arm.params ?? null };
}

/**
 * The model file hash, as the model's runner computes it, without starting the model:
 * llama = sha256 over the GGUF pair (memoised in the cache dir); CLIP = the encoder's own hash
 * (the folder's layout decides which files count, so the folder is opened and closed again).
 */
export async function modelHash(spec: ModelSpec, env: Environment): Promise<string> {
  if (spec.kind === 'llama') {
    try {
      return await filesSha256([spec.model, spec.mmproj], env.cacheDir);
    } catch (error) {
      throw new PerceiveError('model-not-found', `model files not found: ${(error as Error).message}`, { hint: 'check the path in the config (paths are relative to the config file)' });
    }
  }
  const encoder = await ClipEncoder.load(spec.path, { threads: 1 });
  try {
    return encoder.modelHash;
  } finally {
    await encoder.close();
  }
}

/**
 * Every arm of a config as an identity (id, prompt, params, model hash), built through
 * `createArm` on a runner that only carries the model hash: arms must not call their runner in
 * the constructor. The run process plans with these; workers build the real arms.
 */
export async function armIdentities(config: ExperimentConfig, env: Environment): Promise<ArmIdentity[]> {
  const hashes = new Map<string, string>();
  const out: ArmIdentity[] = [];
  for (const spec of config.arms) {
    const model = config.models[spec.model];
    if (!model) throw new Error(`unreachable: arm ${spec.arm} names model ${spec.model}, checked in the config`);
    let hash = hashes.get(spec.model);
    if (!hash) hashes.set(spec.model, (hash = await modelHash(model, env)));
    const hashOnly = { modelHash: hash };
    const arm = createArm(spec, model.kind === 'llama' ? { llama: hashOnly as unknown as LlamaRunner } : { clip: hashOnly as unknown as ContrastiveEncoder });
    out.push(identityOf(arm, spec));
  }
  return out;
}
