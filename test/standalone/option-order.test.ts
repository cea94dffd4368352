import { describe, expect, it } from 'vitest';
import { circularEval } from '../../src/analysis/circular-eval.js';
import { positionBias } from '../../src/analysis/position-bias.js';
import type { RunSummary } from '../../src/analysis/summary.js';
import { optionOrderMarkdown, promptWithOptionOrder } from '../../src/report/option-order-report.js';
import {
  combineRounds,
  depermute,
  effectiveOptionOrder,
  optionPermutations,
  permuteOptions,
  rotation,
  seededPermutation,
  stampOptionOrder,
  taskParams,
} from '../../src/core/option-order.js';
import type { Item } from '../../src/core/item.js';
import { planBundles } from '../../src/execution/plan.js';
import type { Sample } from '../../src/store/sample.js';
import { VlmMcqArm } from '../../src/models/llama/arms/vlm-mcq-arm.js';
import { VlmContrastArm } from '../../src/models/llama/arms/vlm-contrast-arm.js';
import { CHOICE_SCORING_VERSION } from '../../src/models/llama/choice-scoring-version.js';

const item: Item = {
  id: 'b/0',
  benchmark: 'b',
  subset: 's',
  images: ['/x.png'],
  options: ['zero', 'one', 'two'],
  correct: 0,
  groups: {},
  source: { file: 'f', row: 0 },
  meta: {},
};

describe('option orders', () => {
  it('rotations and de-permutation on hand-made rows', () => {
    expect([0, 1, 2].map((r) => rotation(3, r))).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
    // presented ['one', 'two', 'zero'] scored [0.5, 0.3, 0.2] → file order [0.2, 0.5, 0.3]
    expect(permuteOptions(item.options, [1, 2, 0])).toEqual(['one', 'two', 'zero']);
    expect(depermute([0.5, 0.3, 0.2], [1, 2, 0])).toEqual([0.2, 0.5, 0.3]);
    expect(depermute([1, 2, 3, 4], [3, 0, 2, 1])).toEqual([2, 4, 3, 1]);
    expect(() => depermute([1, 2], [0, 1, 2])).toThrow('2 scores for 3 positions');
  });

  it('circular: every rotation de-permuted and averaged; picks and correct positions per rotation', () => {
    const perms = optionPermutations('circular', item);
    // A model that always says (a): presented row [0, -1, -2] under each rotation.
    const rounds = perms.map(() => [[0, -1, -2]]);
    const c = combineRounds('circular', perms, rounds, [0]);
    expect(c.extra.round_scores).toEqual([[[0, -1, -2]], [[-2, 0, -1]], [[-1, -2, 0]]]);
    expect(c.scores).toEqual([[-1, -1, -1]]);
    expect(c.extra.position_picks).toEqual([[0], [0], [0]]);
    expect(c.extra.position_correct).toEqual([[0], [2], [1]]);
    // A content-following model: always the file's option 1, wherever it is shown.
    const follow = perms.map((perm) => [perm.map((k) => (k === 1 ? 0 : -3))]);
    const f = combineRounds('circular', perms, follow, [1]);
    expect(f.scores).toEqual([[-3, 0, -3]]);
    expect(f.extra.position_picks).toEqual([[1], [0], [2]]);
    expect(f.extra.position_correct).toEqual([[1], [0], [2]]);
  });

  it('shuffled: one permutation per item, seeded by the benchmark seed and the item id', () => {
    const a = seededPermutation(4, 0, 'b/0');
    expect(seededPermutation(4, 0, 'b/0')).toEqual(a);
    expect([...a].sort()).toEqual([0, 1, 2, 3]);
    const seeds = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((s) => seededPermutation(4, s, 'b/0').join('')));
    expect(seeds.size).toBeGreaterThan(1);
    const stamped = stampOptionOrder(item, 'circular', 5);
    expect(optionPermutations('shuffled', stamped)).toEqual([seededPermutation(3, 5, 'b/0')]);
    expect(optionPermutations('fixed', stamped)).toEqual([[0, 1, 2]]);
  });

  it('the effective order: config, else the stamped family default, else fixed', () => {
    expect(effectiveOptionOrder(undefined, item)).toBe('fixed');
    expect(effectiveOptionOrder(undefined, stampOptionOrder(item, 'circular', 0))).toBe('circular');
    expect(effectiveOptionOrder('shuffled', stampOptionOrder(item, 'fixed', 0))).toBe('shuffled');
  });

  it('task params: fixed hashes as before option orders; circular and shuffled differ', () => {
    const params = { format: 'llava-v1', option_order: 'benchmark' };
    const mmvp = stampOptionOrder(item, 'fixed', 0);
    const whatsup = stampOptionOrder(item, 'circular', 0);
    expect(taskParams(params, mmvp)).toEqual({ format: 'llava-v1' });
    expect(taskParams({ format: 'llava-v1', option_order: 'fixed' }, whatsup)).toEqual({ format: 'llava-v1' });
    expect(taskParams(params, whatsup)).toEqual({ format: 'llava-v1', option_order: 'circular' });
    expect(taskParams({ format: 'llava-v1', option_order: 'shuffled' }, whatsup)).toEqual({
      format: 'llava-v1',
      option_order: 'shuffled',
      option_permutation: seededPermutation(3, 0, 'b/0'),
    });
    expect(taskParams({ lambda: 1 }, whatsup)).toEqual({ lambda: 1 });

    const plan = (params: unknown, it: Item) =>
      planBundles({
        items: [it],
        arms: [{ spec: {} as never, id: 'vlm.mcq', model: 'm', modelHash: 'h', prompt: { id: 'p', version: 1 }, params }],
        imageHashes: new Map([['/x.png', 'abc']]),
        dataRoot: '/',
        seed: 0,
      })[0]!.tasks[0]!.hash;
    // the arms' own params: fixed leaves exactly the params of before issue 15
    const runner = { modelHash: 'h' } as never;
    const opts = { format: 'llava-v1' as const, optionStyle: 'mmvp' as const, padToSquare: false };
    expect(taskParams(new VlmMcqArm('llava', runner, opts).params, mmvp)).toEqual({
      format: 'llava-v1',
      option_style: 'mmvp',
      pad_to_square: false,
      choice_scoring: CHOICE_SCORING_VERSION,
    });
    expect(JSON.stringify(taskParams(new VlmContrastArm('llava', runner, { ...opts, lambda: 1 }).params, mmvp))).toBe(
      JSON.stringify({ format: 'llava-v1', option_style: 'mmvp', pad_to_square: false, lambda: 1, choice_scoring: CHOICE_SCORING_VERSION }),
    );
    expect(taskParams(new VlmMcqArm('llava', runner, { ...opts, optionOrder: 'circular' }).params, mmvp)).toMatchObject({ option_order: 'circular' });
    // the hash of a fixed task equals that of the params without option_order (results stored before issue 15)
    expect(plan(params, mmvp)).toBe(plan({ format: 'llava-v1' }, item));
    expect(plan(params, whatsup)).not.toBe(plan({ format: 'llava-v1' }, item));
  });
});

function sample(arm: string, extra: object, correct = 0, benchmark = 'w'): Sample {
  return {
    run_id: 'r',
    task: 't',
    item: `${arm}/${Math.random()}`,
    benchmark,
    subset: 's',
    arm,
    model: 'm',
    model_hash: 'h',
    prompt: null,
    images: [{ path: '/x.png', sha256: '' }],
    options: ['a', 'b', 'c'],
    correct_option: correct,
    status: 'ok',
    scores: [[0, 0, 0]],
    prediction: 0,
    correct: true,
    extra: extra as Record<string, unknown>,
    error: null,
    latency_ms: 0,
    timings: null,
    groups: {},
    source: { file: 'f', row: 0 },
    finished_at: '',
  };
}

describe('CircularEval and position bias on hand-made samples', () => {
  const perms = optionPermutations('circular', item);
  const alwaysA = combineRounds(
    'circular',
    perms,
    perms.map(() => [[0, -1, -2]]),
    [0],
  ).extra;
  const follows = combineRounds(
    'circular',
    perms,
    perms.map((perm) => [perm.map((k) => (k === 0 ? 0 : -3))]),
    [0],
  ).extra;
  const fixedA = combineRounds('fixed', [[0, 1, 2]], [[[0, -1, -2]]], [0]).extra;

  it('right only when right under every rotation, judged by the family (MMVP: first maximum = correct)', () => {
    const got = circularEval([sample('x', alwaysA), sample('x', follows), sample('x', follows), sample('y', fixedA)], new Map([['w', 'mmvp']]));
    expect(got).toEqual([{ benchmark: 'w', arm: 'x', option_order: 'circular', n: 3, correct: 2, value: 2 / 3, correct_file_order: 3 }]);
  });

  it('picked against right per letter position, the most picked letter named', () => {
    const [x, y] = positionBias([sample('x', alwaysA), sample('x', follows), sample('y', fixedA), sample('z', { unrelated: 1 })]);
    expect(x).toMatchObject({ arm: 'x', option_orders: ['circular'], prompts: 6, no_pick: 0, preferred: 'a' });
    expect(x!.positions).toEqual([
      { position: 0, letter: 'a', picked: 4, correct_here: 2, picked_and_right: 2 },
      { position: 1, letter: 'b', picked: 1, correct_here: 2, picked_and_right: 1 },
      { position: 2, letter: 'c', picked: 1, correct_here: 2, picked_and_right: 1 },
    ]);
    expect(y).toMatchObject({ arm: 'y', option_orders: ['fixed'], prompts: 1, preferred: 'a' });
  });

  it('the report names the order and shows both views', () => {
    const samples = [sample('x', alwaysA), sample('x', follows)];
    const summary = { circular_eval: circularEval(samples, new Map([['w', 'mmvp']])), position_bias: positionBias(samples) } as RunSummary;
    const md = optionOrderMarkdown(summary).join('\n');
    expect(md).toContain('| w | x | circular | 50.0 (1/2) | 2/2 | 2 |');
    expect(md).toContain('### w: x (options circular; 6 prompts; most picked: a)');
    expect(md).toContain('| a | 4 | 66.7 | 2 | 33.3 | 2 |');
    expect(promptWithOptionOrder({ prompt: 'mcq.mmvp+llava-v1@v1', option_orders: ['circular'] })).toBe('mcq.mmvp+llava-v1@v1, options circular');
    expect(promptWithOptionOrder({ prompt: null, option_orders: [] })).toBe('–');
  });
});
