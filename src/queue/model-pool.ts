import type { Arm } from '../arms/arm.js';
import { createArm } from '../arms/arm-factory.js';
import type { ArmSpec, ExperimentConfig, ModelSpec } from '../config/experiment.js';
import type { Environment } from '../config/environment.js';
import { ClipEncoder } from '../runners/clip/clip-encoder.js';
import type { LlamaBinaries } from '../runners/llama/llama-build.js';
import { LlamaRunner } from '../runners/llama/llama-runner.js';

export interface ModelInfo {
  name: string;
  kind: ModelSpec['kind'];
  files: string[];
  hash: string;
}

/**
 * Starts each model of a run once (a llama-server per GGUF pair, an onnxruntime session per
 * CLIP folder), builds the arms on top, and stops everything at the end.
 */
export class ModelPool {
  private readonly llama = new Map<string, LlamaRunner>();
  private readonly clip = new Map<string, ClipEncoder>();

  constructor(
    private readonly config: ExperimentConfig,
    private readonly env: Environment,
    private readonly binaries: LlamaBinaries | undefined,
    private readonly logDir: string,
  ) {}

  private async llamaRunner(name: string, spec: Extract<ModelSpec, { kind: 'llama' }>): Promise<LlamaRunner> {
    let r = this.llama.get(name);
    if (!r) {
      r = await LlamaRunner.start(spec, {
        env: this.env,
        binaries: this.binaries,
        logFile: `${this.logDir}/llama-server.${name}.log`,
      });
      this.llama.set(name, r);
    }
    return r;
  }

  private async clipEncoder(name: string, spec: Extract<ModelSpec, { kind: 'clip' }>): Promise<ClipEncoder> {
    let e = this.clip.get(name);
    if (!e) {
      e = await ClipEncoder.load(spec.path, { threads: spec.threads ?? this.env.threads, batchSize: spec.batch_size });
      this.clip.set(name, e);
    }
    return e;
  }

  async arm(spec: ArmSpec): Promise<Arm> {
    const model = this.config.models[spec.model];
    if (!model) throw new Error(`unreachable: arm ${spec.arm} names model ${spec.model}, checked in the config`);
    return model.kind === 'llama'
      ? createArm(spec, { llama: await this.llamaRunner(spec.model, model) })
      : createArm(spec, { clip: await this.clipEncoder(spec.model, model) });
  }

  models(): ModelInfo[] {
    const out: ModelInfo[] = [];
    for (const [name, r] of this.llama) out.push({ name, kind: 'llama', files: r.files, hash: r.modelHash });
    for (const [name, e] of this.clip) out.push({ name, kind: 'clip', files: [e.dir], hash: e.modelHash });
    return out;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...[...this.llama.values()].map((r) => r.stop()), ...[...this.clip.values()].map((e) => e.close())]);
    this.llama.clear();
    this.clip.clear();
  }
}
