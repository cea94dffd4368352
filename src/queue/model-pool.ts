import type { Arm } from '../arms/arm.js';
import { createArm } from '../arms/arm-factory.js';
import type { ArmSpec, ModelSpec } from '../config/experiment.js';
import type { Environment } from '../config/environment.js';
import { ClipEncoder } from '../runners/clip/clip-encoder.js';
import type { LlamaBinaries } from '../runners/llama/llama-build.js';
import { LlamaRunner } from '../runners/llama/llama-runner.js';
import { BatchingEncoder } from './batching-encoder.js';

export interface ModelInfo {
  name: string;
  kind: ModelSpec['kind'];
  files: string[];
  hash: string;
}

/**
 * One model's runner (a llama-server for a GGUF pair, an onnxruntime session for a CLIP folder)
 * and the arms built on it. A worker owns one; the in-process mode starts one per model.
 * `slots` is how many bundles it serves at once: llama-server's slots, or CLIP's batch size
 * (bundles held together are encoded in one batch).
 */
export class ModelRuntime {
  private readonly arms = new Map<string, Arm>();

  private constructor(
    readonly name: string,
    readonly spec: ModelSpec,
    private readonly runner: { llama: LlamaRunner } | { clip: BatchingEncoder; encoder: ClipEncoder },
  ) {}

  static async start(name: string, spec: ModelSpec, env: Environment, binaries: LlamaBinaries | undefined, logDir: string): Promise<ModelRuntime> {
    if (spec.kind === 'llama') {
      const llama = await LlamaRunner.start(spec, { env, binaries, logFile: `${logDir}/llama-server.${name}.${process.pid}.log` });
      return new ModelRuntime(name, spec, { llama });
    }
    const encoder = await ClipEncoder.load(spec.path, { threads: spec.threads ?? env.threads, batchSize: spec.batch_size });
    return new ModelRuntime(name, spec, { clip: new BatchingEncoder(encoder, spec.batch_size), encoder });
  }

  get slots(): number {
    return this.spec.kind === 'llama' ? this.spec.slots : this.spec.batch_size;
  }

  get modelHash(): string {
    return 'llama' in this.runner ? this.runner.llama.modelHash : this.runner.encoder.modelHash;
  }

  info(): ModelInfo {
    return 'llama' in this.runner
      ? { name: this.name, kind: 'llama', files: this.runner.llama.files, hash: this.modelHash }
      : { name: this.name, kind: 'clip', files: [this.runner.encoder.dir], hash: this.modelHash };
  }

  /** The arm a config entry names, built once per distinct entry. */
  arm(spec: ArmSpec): Arm {
    const key = JSON.stringify(spec);
    let arm = this.arms.get(key);
    if (!arm) {
      arm = createArm(spec, 'llama' in this.runner ? { llama: this.runner.llama } : { clip: this.runner.clip });
      this.arms.set(key, arm);
    }
    return arm;
  }

  async close(): Promise<void> {
    if ('llama' in this.runner) await this.runner.llama.stop();
    else await this.runner.clip.close();
  }
}
