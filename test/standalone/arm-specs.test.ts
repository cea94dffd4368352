import { describe, expect, it } from 'vitest';
import { ArmSpecSchema, armSpecId, parseExperimentConfig } from '../../src/config/experiment.js';
import { armDefinition } from '../../src/models/registry.js';
import { normalisedPreference, relaxedPair, relaxedPairAccuracy, singleImageRelaxedPairs } from '../../src/core/pair-preference.js';
import { mcqPrompt } from '../../src/models/llama/prompts/mcq-prompt.js';
import { llavaV1Chat } from '../../src/models/llama/prompts/llava-v1-chat.js';
import { VLM2VEC_PLAIN, VLM2VEC_QUESTION, renderVlm2Vec } from '../../src/models/llama/prompts/vlm2vec-prompt.js';
import { generatePrompt } from '../../src/models/llama/prompts/generate-prompt.js';
import { twoImagePrompt } from '../../src/models/llama/prompts/two-image-prompt.js';

function config(arms: string): string {
  return `name: t
benchmarks:
  - { name: w, format: whatsup-controlled, annotations: a.json, data_dir: d, subset: controlled_a }
models:
  llava: { kind: llama, model: m.gguf, mmproj: p.gguf, slots: 2 }
arms:
${arms}
`;
}

describe('arm specs of the VLM arms', () => {
  it('fills defaults: llava-v1 format, MMVP option style, λ = 1, 32 tokens, no padding', () => {
    expect(ArmSpecSchema.parse({ arm: 'vlm.mcq', model: 'llava' })).toEqual({
      arm: 'vlm.mcq',
      model: 'llava',
      prompt_format: 'llava-v1',
      option_style: 'mmvp',
      pad_to_square: false,
    });
    expect(ArmSpecSchema.parse({ arm: 'vlm.contrast', model: 'llava' })).toMatchObject({ lambda: 1 });
    expect(ArmSpecSchema.parse({ arm: 'vlm.generate', model: 'llava' })).toMatchObject({ max_tokens: 32 });
    expect(() => ArmSpecSchema.parse({ arm: 'vlm.contrast', model: 'llava', lambda: -1 })).toThrow();
    expect(() => ArmSpecSchema.parse({ arm: 'vlm.mcq', model: 'llava', prompt_format: 'chatml' })).toThrow();
  });

  it('names arms by label, else by arm and prompt variant, and refuses duplicate ids', () => {
    const text = config(`  - { arm: vlm.contrast, model: llava }
  - { arm: vlm.contrast, model: llava, lambda: 0.5, label: vlm.contrast.l05 }
  - { arm: vlm2vec.question, model: llava }
  - { arm: vlm2vec.question, model: llava, prompt_variant: { name: short, template: "<image> Q: {question}" } }
  - { arm: vlm2vec.plain, model: llava }`);
    const c = parseExperimentConfig(text, 'c.yaml');
    expect(c.arms.map(armSpecId)).toEqual(['vlm.contrast', 'vlm.contrast.l05', 'vlm2vec.question', 'vlm2vec.question.short', 'vlm2vec.plain']);
    expect(c.models.llava).toMatchObject({ slots: 2 });
    expect(() =>
      parseExperimentConfig(config(`  - { arm: vlm.mcq, model: llava }\n  - { arm: vlm.mcq, model: llava, option_style: lmms-eval }`), 'c.yaml'),
    ).toThrow(/c.yaml: field arms\[1\]: duplicate arm id "vlm.mcq"/);
  });

  it('checks user prompt variants: <image> once, {question} only where a question goes', () => {
    const bad = (arms: string) => () => parseExperimentConfig(config(arms), 'c.yaml');
    expect(bad(`  - { arm: vlm2vec.question, model: llava, prompt_variant: { name: x, template: "Q: {question}" } }`)).toThrow(
      /prompt_variant.template: the template must contain <image> exactly once/,
    );
    expect(bad(`  - { arm: vlm2vec.question, model: llava, prompt_variant: { name: x, template: "<image> hi" } }`)).toThrow(/must contain \{question\}/);
    expect(bad(`  - { arm: vlm2vec.plain, model: llava, prompt_variant: { name: x, template: "<image> {question}" } }`)).toThrow(
      /must not contain \{question\}/,
    );
  });
});

describe('prompt strings', () => {
  it('MMVP options as its authors write them, lmms-eval post-prompt, llava_v1 conversation', () => {
    const m = mcqPrompt.render('mmvp', 'Is the arrow pointing up or down?', ['Up', 'Down']);
    expect(m.text).toBe("Is the arrow pointing up or down? (a) Up (b) Down\nAnswer with the option's letter from the given choices directly.");
    expect(m.answers).toEqual(['(a)', '(b)']);
    const l = mcqPrompt.render('lmms-eval', 'Is the arrow pointing up or down?', ['Up', 'Down']);
    // lmms-eval's snapshot example, verbatim (reference-numbers.md §6.4)
    expect(l.text).toBe("Is the arrow pointing up or down?\nA. Up\nB. Down\nAnswer with the option's letter from the given choices directly.");
    expect(l.answers).toEqual(['A', 'B']);
    expect(llavaV1Chat.render(mcqPrompt.userTurn('Q', 1))).toBe(
      "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the human's questions. USER: <image>\nQ ASSISTANT:",
    );
    expect(generatePrompt.userTurn('Is the door open?', ['Open', 'Closed'])).toBe('<image>\nIs the door open? (a) Open (b) Closed');
    expect(twoImagePrompt.userTurn(2, 1, 'Q')).toBe('Image 1: <image>\nImage 2: <image>\nAnswer about image 2 only. Q');
  });

  it('VLM2Vec prompts verbatim', () => {
    expect(renderVlm2Vec(VLM2VEC_QUESTION, 'Is the mug to the left of or to the right of the plate?')).toBe(
      '<image> Represent the given image with the following question: Is the mug to the left of or to the right of the plate?',
    );
    expect(renderVlm2Vec(VLM2VEC_PLAIN, undefined)).toBe('<image> Represent the given image.');
    // str.format semantics: "$&" in a question is inserted verbatim
    expect(renderVlm2Vec(VLM2VEC_QUESTION, 'a $& b')).toMatch(/: a \$& b$/);
  });
});

describe("Li et al. v1's relaxed pair metric", () => {
  it('normalises each image row and compares image 1 and image 2 on image 1’s option', () => {
    expect(normalisedPreference([Math.log(0.2), Math.log(0.6)])).toEqual([0.25, 0.75].map((v) => expect.closeTo(v, 12)));
    // both images prefer option 1 (index 1), yet the pair counts: image 1 prefers option 0 more than image 2 does
    const a = relaxedPair(
      [
        [Math.log(0.4), Math.log(0.6)],
        [Math.log(0.3), Math.log(0.7)],
      ],
      0,
      'single-image',
    );
    expect(a).toEqual({ variant: 'single-image', option: 0, p_image1: expect.closeTo(0.4, 12), p_image2: expect.closeTo(0.3, 12), correct: true });
    const tie = relaxedPair(
      [
        [0, 0],
        [0, 0],
      ],
      0,
      'two-image',
    );
    expect(tie.correct).toBe(false); // strict: equal preferences do not count
    expect(relaxedPairAccuracy([a, tie])).toEqual({ variant: 'mixed', correct: 1, total: 2, value: 0.5 });
    expect(relaxedPairAccuracy([a])).toEqual({ variant: 'single-image', correct: 1, total: 1, value: 1 });
  });

  it('single-image variant: pairs of samples by groups.pair, image 1 = the lower row, same options only', () => {
    const sample = (item: string, row: number, pair: string, scores: number[][] | null, correct = 0, options = ['Up', 'Down']) => ({
      item,
      benchmark: 'mmvp',
      subset: 'mmvp',
      groups: { pair },
      options,
      correct_option: correct,
      scores,
      source: { row },
    });
    const { pairs, skipped } = singleImageRelaxedPairs([
      sample('b', 1, '0', [[Math.log(0.7), Math.log(0.3)]], 1),
      sample('a', 0, '0', [[Math.log(0.6), Math.log(0.4)]], 0),
      sample('c', 2, '1', [[0, 0]]),
      sample('d', 3, '1', null),
      sample('e', 4, '2', [[0, 0]]),
      sample('f', 5, '2', [[0, 0]], 1, ['Left', 'Right']),
    ]);
    // image 1 (row 0) P(Up) = 0.6 < image 2 P(Up) = 0.7: not counted
    expect(pairs).toEqual([
      {
        variant: 'single-image',
        option: 0,
        p_image1: expect.closeTo(0.6, 12),
        p_image2: expect.closeTo(0.7, 12),
        correct: false,
        pair: '0',
        items: ['a', 'b'],
      },
    ]);
    expect(skipped).toBe(2);
  });
});

describe('prompt_format on every llama arm: ids and params change only for `model`', () => {
  const stand = { modelHash: 'h' } as never;
  const built = (spec: Record<string, unknown>) => {
    const s = ArmSpecSchema.parse(spec);
    return armDefinition(s.arm).create(s, stand, armSpecId(s));
  };
  it("vlm.vqascore keeps t2v_metrics' prompt id and params under llava-v1 (task hashes unchanged)", () => {
    const plain = built({ arm: 'vlm.vqascore', model: 'llava' });
    expect(plain.id).toBe('vlm.vqascore');
    expect(plain.prompt).toEqual({ id: 't2v_metrics.vqascore.llava-v1.5', version: 1 });
    expect(plain.params).toEqual({ pad_to_square: true, choice_scoring: 1 });
    const model = built({ arm: 'vlm.vqascore', model: 'llava', prompt_format: 'model', label: 'vlm.vqascore.chatml' });
    expect(model.id).toBe('vlm.vqascore.chatml');
    expect(model.prompt).toEqual({ id: 't2v_metrics.vqascore.question+model', version: 1 });
    expect(model.params).toEqual(plain.params);
  });
  it('vlm2vec keeps its prompt ids under llava-v1 and marks `model`', () => {
    expect(built({ arm: 'vlm2vec.question', model: 'llava' }).prompt).toEqual({ id: 'vlm2vec.question', version: 1 });
    expect(built({ arm: 'vlm2vec.plain', model: 'llava', prompt_format: 'model', label: 'p.m' }).prompt).toEqual({ id: 'vlm2vec.plain+model', version: 1 });
  });
});
