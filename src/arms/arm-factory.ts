import { armSpecId, type ArmSpec } from '../config/experiment.js';
import { VLM2VEC_PLAIN, VLM2VEC_QUESTION } from '../prompts/vlm2vec-prompt.js';
import type { ContrastiveEncoder } from '../runners/runner.js';
import type { LlamaRunner } from '../runners/llama/llama-runner.js';
import type { Arm } from './arm.js';
import { ClipArm } from './clip-arm.js';
import { VlmContrastArm } from './vlm-contrast-arm.js';
import { VlmGenerateArm } from './vlm-generate-arm.js';
import { VlmMcqArm } from './vlm-mcq-arm.js';
import { VlmTwoImageArm } from './vlm-two-image-arm.js';
import { VlmVqascoreArm } from './vlm-vqascore-arm.js';
import { Vlm2VecArm } from './vlm2vec-arm.js';

/** The runners an arm may be built on; the config has already checked the arm/model kinds. */
export interface ArmRunners {
  llama?: LlamaRunner;
  clip?: ContrastiveEncoder;
}

function need<T>(runner: T | undefined, spec: ArmSpec, kind: string): T {
  if (!runner) throw new Error(`arm ${spec.arm} on model ${spec.model} needs a ${kind} runner`);
  return runner;
}

type LetterArmSpec = Extract<ArmSpec, { arm: 'vlm.mcq' | 'vlm.two-image' | 'vlm.contrast' }>;

function letterOptions(spec: LetterArmSpec) {
  return { format: spec.prompt_format, optionStyle: spec.option_style, padToSquare: spec.pad_to_square };
}

/** Builds the arm a config entry names, on the runner of its model. */
export function createArm(spec: ArmSpec, runners: ArmRunners): Arm {
  switch (spec.arm) {
    case 'clip':
      return new ClipArm(spec.model, need(runners.clip, spec, 'clip'));
    case 'vlm.vqascore':
      return new VlmVqascoreArm(spec.model, need(runners.llama, spec, 'llama'), { padToSquare: spec.pad_to_square });
    case 'vlm.mcq':
      return new VlmMcqArm(spec.model, need(runners.llama, spec, 'llama'), letterOptions(spec), armSpecId(spec));
    case 'vlm.two-image':
      return new VlmTwoImageArm(spec.model, need(runners.llama, spec, 'llama'), letterOptions(spec), armSpecId(spec));
    case 'vlm.contrast':
      return new VlmContrastArm(spec.model, need(runners.llama, spec, 'llama'), { ...letterOptions(spec), lambda: spec.lambda }, armSpecId(spec));
    case 'vlm.generate':
      return new VlmGenerateArm(
        spec.model,
        need(runners.llama, spec, 'llama'),
        { format: spec.prompt_format, maxTokens: spec.max_tokens, padToSquare: spec.pad_to_square },
        armSpecId(spec),
      );
    case 'vlm2vec.question':
    case 'vlm2vec.plain': {
      const builtin = spec.arm === 'vlm2vec.question' ? VLM2VEC_QUESTION : VLM2VEC_PLAIN;
      const variant = spec.prompt_variant ?? builtin;
      return new Vlm2VecArm(spec.model, need(runners.llama, spec, 'llama'), variant, { padToSquare: spec.pad_to_square }, armSpecId(spec));
    }
  }
}
