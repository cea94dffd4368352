import type { Logger } from 'pino';
import type { ArmSpec, ModelSpec } from '../config/experiment.js';
import type { Environment } from '../core/environment.js';
import type { Arm } from '../models/arm.js';
import type { HostTools, ModelKind, StartedModel } from '../models/model-kind.js';
import { armDefinition, armSpecId, modelKind } from '../models/registry.js';
import { startTogether } from './start-together.js';

export interface ModelInfo {
  name: string;
  kind: ModelSpec['kind'];
  files: string[];
  hash: string;
  /** What the kind adds to the manifest's entry (`ModelKind.describe`: the onnxruntime provider). */
  [extra: string]: unknown;
}

/** How many runtimes a worker (or the in-process mode) starts for this model: the kind's `instances` (llama's `servers`), else 1. */
export function runtimeCount(spec: ModelSpec, env: Environment): number {
  return modelKind(spec.kind).instances?.(spec as never, env) ?? 1;
}

/**
 * One started model (a llama-server for a GGUF pair, an onnxruntime session for an ONNX folder)
 * and the arms built on it. A worker owns `runtimeCount` of them (llama's `servers`: several
 * llama-servers per worker); the in-process mode starts as many per model.
 * `slots` is how many bundles it serves at once (llama-server's slots, an encoder's batch size).
 * Which runtime starts is the model kind's business (src/models/registry.ts).
 */
export class ModelRuntime {
  private readonly arms = new Map<string, Arm>();

  private constructor(
    readonly name: string,
    readonly spec: ModelSpec,
    private readonly kind: ModelKind,
    private readonly started: StartedModel,
  ) {}

  static async start(
    name: string,
    spec: ModelSpec,
    env: Environment,
    tools: HostTools,
    logDir: string,
    log?: Logger,
    instance?: { index: number; count: number },
  ): Promise<ModelRuntime> {
    const kind = modelKind(spec.kind);
    return new ModelRuntime(name, spec, kind, await kind.start(name, spec, { env, tools, logDir, log, instance }));
  }

  /**
   * The `runtimeCount` runtimes of one model, started together. If one fails to start, the others
   * are closed (once started) and its error is thrown: a worker never serves with part of its servers.
   */
  static async startAll(name: string, spec: ModelSpec, env: Environment, tools: HostTools, logDir: string, log?: Logger): Promise<ModelRuntime[]> {
    const count = runtimeCount(spec, env);
    return startTogether(count, (index) => ModelRuntime.start(name, spec, env, tools, logDir, log, count > 1 ? { index, count } : undefined));
  }

  get slots(): number {
    return this.started.slots;
  }

  get modelHash(): string {
    return this.started.capabilities.modelHash;
  }

  info(): ModelInfo {
    return { name: this.name, kind: this.spec.kind, files: this.kind.files(this.spec), hash: this.modelHash };
  }

  /** The arm a config entry names, built once per distinct entry. */
  arm(spec: ArmSpec): Arm {
    const key = JSON.stringify(spec);
    let arm = this.arms.get(key);
    if (!arm) {
      const definition = armDefinition(spec.arm);
      if (definition.needs !== this.kind.provides)
        throw new Error(`arm ${spec.arm} needs ${definition.needs}; model ${this.name} (${this.spec.kind}) provides ${this.kind.provides}`);
      arm = definition.create(spec, this.started.capabilities as never, armSpecId(spec));
      this.arms.set(key, arm);
    }
    return arm;
  }

  async close(): Promise<void> {
    await this.started.close();
  }
}
