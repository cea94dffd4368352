import type { ArmSpec } from '../config/experiment.js';
import type { ContrastiveEncoder } from '../runners/runner.js';
import type { LlamaRunner } from '../runners/llama/llama-runner.js';
import type { Arm } from './arm.js';
import { ClipArm } from './clip-arm.js';
import { VlmVqascoreArm } from './vlm-vqascore-arm.js';

/** The runners an arm may be built on; the config has already checked the arm/model kinds. */
export interface ArmRunners {
  llama?: LlamaRunner;
  clip?: ContrastiveEncoder;
}

function need<T>(runner: T | undefined, spec: ArmSpec, kind: string): T {
  if (!runner) throw new Error(`arm ${spec.arm} on model ${spec.model} needs a ${kind} runner`);
  return runner;
}

/** Builds the arm a config entry names, on the runner of its model. */
export function createArm(spec: ArmSpec, runners: ArmRunners): Arm {
  switch (spec.arm) {
    case 'clip':
      return new ClipArm(spec.model, need(runners.clip, spec, 'clip'));
    case 'vlm.vqascore':
      return new VlmVqascoreArm(spec.model, need(runners.llama, spec, 'llama'), { padToSquare: spec.pad_to_square });
  }
}
