import { defineArm } from '../arm-definition.js';
import { VLM2VEC_PLAIN, VLM2VEC_QUESTION } from './prompts/vlm2vec-prompt.js';
import {
  ContrastArmSchema,
  GenerateArmSchema,
  type LetterArmSpec,
  McqArmSchema,
  TwoImageArmSchema,
  Vlm2VecPlainArmSchema,
  Vlm2VecProbeArmSchema,
  Vlm2VecQuestionArmSchema,
  VqascoreArmSchema,
} from './arms/llama-arm-specs.js';
import { VlmContrastArm } from './arms/vlm-contrast-arm.js';
import { VlmGenerateArm } from './arms/vlm-generate-arm.js';
import { VlmMcqArm } from './arms/vlm-mcq-arm.js';
import { VlmTwoImageArm } from './arms/vlm-two-image-arm.js';
import { VlmVqascoreArm } from './arms/vlm-vqascore-arm.js';
import { Vlm2VecArm } from './arms/vlm2vec-arm.js';
import { Vlm2VecProbeArm } from './arms/vlm2vec-probe-arm.js';

function letterOptions(spec: LetterArmSpec) {
  return { format: spec.prompt_format, optionStyle: spec.option_style, padToSquare: spec.pad_to_square, optionOrder: spec.option_order };
}

/** The arms a llama.cpp VLM serves, as the config names them. */
export const LLAMA_ARMS = [
  defineArm({
    arm: 'vlm.vqascore',
    schema: VqascoreArmSchema,
    needs: 'vlm',
    create: (spec, vlm, id) => new VlmVqascoreArm(spec.model, vlm, { padToSquare: spec.pad_to_square, format: spec.prompt_format }, id),
  }),
  defineArm({ arm: 'vlm.mcq', schema: McqArmSchema, needs: 'vlm', create: (spec, vlm, id) => new VlmMcqArm(spec.model, vlm, letterOptions(spec), id) }),
  defineArm({
    arm: 'vlm.two-image',
    schema: TwoImageArmSchema,
    needs: 'vlm',
    create: (spec, vlm, id) => new VlmTwoImageArm(spec.model, vlm, letterOptions(spec), id),
  }),
  defineArm({
    arm: 'vlm.contrast',
    schema: ContrastArmSchema,
    needs: 'vlm',
    create: (spec, vlm, id) => new VlmContrastArm(spec.model, vlm, { ...letterOptions(spec), lambda: spec.lambda }, id),
  }),
  defineArm({
    arm: 'vlm.generate',
    schema: GenerateArmSchema,
    needs: 'vlm',
    create: (spec, vlm, id) =>
      new VlmGenerateArm(
        spec.model,
        vlm,
        { format: spec.prompt_format, maxTokens: spec.max_tokens, padToSquare: spec.pad_to_square, optionOrder: spec.option_order },
        id,
      ),
  }),
  defineArm({
    arm: 'vlm2vec.question',
    schema: Vlm2VecQuestionArmSchema,
    needs: 'vlm',
    id: (spec) => spec.label ?? (spec.prompt_variant ? `vlm2vec.question.${spec.prompt_variant.name}` : 'vlm2vec.question'),
    create: (spec, vlm, id) =>
      new Vlm2VecArm(spec.model, vlm, spec.prompt_variant ?? VLM2VEC_QUESTION, { padToSquare: spec.pad_to_square, format: spec.prompt_format }, id),
  }),
  defineArm({
    arm: 'vlm2vec.plain',
    schema: Vlm2VecPlainArmSchema,
    needs: 'vlm',
    id: (spec) => spec.label ?? (spec.prompt_variant ? `vlm2vec.plain.${spec.prompt_variant.name}` : 'vlm2vec.plain'),
    create: (spec, vlm, id) =>
      new Vlm2VecArm(spec.model, vlm, spec.prompt_variant ?? VLM2VEC_PLAIN, { padToSquare: spec.pad_to_square, format: spec.prompt_format }, id),
  }),
  defineArm({
    arm: 'vlm2vec.probe',
    schema: Vlm2VecProbeArmSchema,
    needs: 'vlm',
    create: (spec, vlm, id) =>
      new Vlm2VecProbeArm(
        spec.model,
        vlm,
        { embedding: 'vlm2vec', folds: spec.folds, l2: spec.l2, seed: spec.seed },
        { padToSquare: spec.pad_to_square, format: spec.prompt_format },
        id,
      ),
  }),
] as const;
