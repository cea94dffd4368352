/**
 * `perceive metrics` on the MMVP, MMVP-VLM, Questions-clip.csv and ARO subsets: small files in the
 * authors' formats, scores given as SCORES.jsonl, every figure checked by hand (see the comments).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalMetrics } from '../../src/cli/metrics.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'perceive-mmvp-aro-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function file(rel: string, text: string): Promise<string> {
  const p = path.join(root, rel);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
}

const jsonl = (lines: Array<[number, number[][]]>): string => lines.map(([id, s]) => JSON.stringify({ id, scores: s })).join('\n') + '\n';
const headline = (r: Awaited<ReturnType<typeof externalMetrics>>): Record<string, number | null> =>
  Object.fromEntries(r.metrics.headline.map((h) => [h.name, h.value]));

describe('perceive metrics: MMVP', () => {
  it('question and pair accuracy, with errata 99/100 applied and the uncorrected figures beside', async () => {
    const annotations = await file(
      'MMVP/Questions.csv',
      [
        'Index,Question,Options,Correct Answer',
        '1,Is the arrow pointing up or down?,(a) Up (b) Down,(a)',
        '2,Is the arrow pointing up or down?,(a) Up (b) Down,(b)',
        '99,Does the elephant have long or short tusks?,(a) Long (b) Short,(a)',
        '100,Does the elephant have long or short tusks?,(a) Long (b) Short,(b)',
      ].join('\n') + '\n',
    );
    const scores = await file(
      'mmvp-scores.jsonl',
      jsonl([
        [0, [[0.8, 0.2]]], // (a): right
        [1, [[0.3, 0.7]]], // (b): right
        [2, [[0.4, 0.6]]], // (b): right after the correction (a)→(b), wrong before
        [3, [[0.5, 0.5]]], // tie → (a): right after the correction (b)→(a), wrong before
      ]),
    );
    const r = await externalMetrics({ benchmark: 'mmvp', annotations, scores });
    expect(r.scoreProblems).toEqual([]);
    expect(r.convention).toBe('mmvp');
    // corrected: 4/4 questions, 2/2 pairs; uncorrected: 2/4 questions, 1/2 pairs.
    expect(headline(r)).toEqual({ individual: 1, pair: 1, individual_uncorrected: 0.5, pair_uncorrected: 0.5 });
    const lm = await externalMetrics({ benchmark: 'mmvp', annotations, scores, convention: 'lmms_eval' });
    expect(lm.convention).toBe('lmms_eval');
    expect(headline(lm)).toEqual({ individual: 1, pair: 1, individual_uncorrected: 0.5, pair_uncorrected: 0.5 });
  });
});

describe('perceive metrics: MMVP-VLM and Questions-clip.csv (text-to-image, CLIP-Embeds eval_MMVP)', () => {
  it('MMVP-VLM: 2 pairs, one right, one with a tie', async () => {
    const annotations = await file(
      'MMVP_VLM/Questions.csv',
      [
        'Question ID,Type,Statement',
        '1,Orientation,The dog is facing left',
        '2,Orientation,The dog is facing right',
        '3,Orientation,The arrow points up',
        '4,Orientation,The arrow points down',
      ].join('\n') + '\n',
    );
    // scores[image][statement]. Pair 0: text 1 → P(img1) = 1/(1+e^-5) = 0.9933 (img1, right);
    // text 2 → 1/(1+e^2) = 0.1192 (img2, right). Pair 1: text 1 ties → P = 0.5 → img2 (wrong, qid 3 is odd);
    // text 2 → 1/(1+e^1) = 0.2689 → img2 (right). Pair 1/2, individual 3/4.
    const scores = await file(
      'vlm-scores.jsonl',
      jsonl([
        [
          0,
          [
            [0.3, 0.2],
            [0.25, 0.22],
          ],
        ],
        [
          1,
          [
            [0.26, 0.26],
            [0.26, 0.27],
          ],
        ],
      ]),
    );
    const r = await externalMetrics({ benchmark: 'mmvp_vlm', annotations, scores });
    expect(r.convention).toBe('clip_embeds');
    expect(headline(r)).toEqual({ individual: 0.75, pair: 0.5 });
    const per = (r.metrics.details as { perCategory: Array<Record<string, unknown>> }).perCategory[0];
    // The authors divide by num_pairs // 9 = 0 here (a ZeroDivisionError in Python): null.
    expect(per).toMatchObject({ category: 'Orientation and Direction', pairs: 2, pairCorrect: 1, pairAccuracy: 0.5, authorsPairAccuracy: null });
  });

  it('Questions-clip.csv with MMVP images; VQAScores softmaxed with no scale decide the same way', async () => {
    const annotations = await file(
      'MMVP/Questions-clip.csv',
      'Question ID,Type,Statement\n1,Unknown,a butterfly with wings open\n2,Unknown,a butterfly with wings closed\n',
    );
    // VQAScore-like probabilities: text 1 → P(img1) = 1/(1+e^-0.7) = 0.668 (img1, right);
    // text 2 → 1/(1+e^0.5) = 0.378 (img2, right).
    const scores = await file(
      'clip-scores.jsonl',
      jsonl([
        [
          0,
          [
            [0.9, 0.3],
            [0.2, 0.8],
          ],
        ],
      ]),
    );
    const r = await externalMetrics({ benchmark: 'mmvp_clip', annotations, scores, convention: 'clip_embeds_vqascore' });
    expect(r.convention).toBe('clip_embeds_vqascore');
    expect(headline(r)).toEqual({ individual: 1, pair: 1 });
    expect(r.loadFailures).toEqual([]);
  });
});

describe('perceive metrics: ARO', () => {
  it('VG-Relation: macro over non-symmetric relations, a tie is wrong', async () => {
    const row = {
      image_path: '1.jpg',
      bbox_x: 0,
      bbox_y: 0,
      bbox_w: 10,
      bbox_h: 10,
      true_caption: 'the cup is on the table',
      false_caption: 'the table is on the cup',
    };
    const annotations = await file(
      'aro/visual_genome_relation.json',
      JSON.stringify([
        { ...row, relation_name: 'on' },
        { ...row, relation_name: 'on' },
        { ...row, relation_name: 'next to' },
      ]),
    );
    // row 0 right; row 1 tie → argmax 0 → wrong; row 2 right but "next to" is in the notebook's symmetric list.
    const scores = await file(
      'vgr.jsonl',
      jsonl([
        [0, [[0.2, 0.3]]],
        [1, [[0.3, 0.3]]],
        [2, [[0, 1]]],
      ]),
    );
    const r = await externalMetrics({ benchmark: 'aro.vg_relation', annotations, scores });
    expect(headline(r)).toEqual({ macro: 0.5, micro: 2 / 3 });
  });

  it('VG-Attribution: macro over attribute pairs with at least 25 samples', async () => {
    const row = { image_path: '1.jpg', bbox_x: 0, bbox_y: 0, bbox_w: 10, bbox_h: 10, true_caption: 't', false_caption: 'f' };
    const rows = [...Array.from({ length: 25 }, () => ({ ...row, attributes: ['white', 'black'] })), { ...row, attributes: ['red', 'blue'] }];
    const annotations = await file('aro/visual_genome_attribution.json', JSON.stringify(rows));
    // white_black: 24 right + 1 tie (wrong) = 0.96; red_blue (1 sample, right) is dropped.
    const lines: Array<[number, number[][]]> = rows.map((_, i) => [i, i === 0 ? [[0.5, 0.5]] : [[0.1, 0.9]]]);
    const scores = await file('vga.jsonl', jsonl(lines));
    const r = await externalMetrics({ benchmark: 'aro.vg_attribution', annotations, scores });
    expect(headline(r)).toEqual({ macro: 0.96, micro: 25 / 26 });
  });

  it('COCO-Order from a pre-built options file: Precision@1, a tie with the original is right', async () => {
    const annotations = await file(
      'coco/coco_order_options.json',
      JSON.stringify([
        { image: 'val2014/a.jpg', caption_options: ['a man on a horse', 'a horse on a man', 'man a on horse a', 'on a man a horse', 'a horse a man on'] },
        { image: 'val2014/b.jpg', caption_options: ['two dogs play', 'two play dogs', 'dogs two play', 'play two dogs', 'dogs play two'] },
      ]),
    );
    const scores = await file(
      'order.jsonl',
      jsonl([
        [0, [[0.5, 0.5, 0.1, 0.1, 0.1]]],
        [1, [[0.1, 0.2, 0, 0, 0]]],
      ]),
    );
    const r = await externalMetrics({ benchmark: 'aro.coco_order', annotations, scores });
    expect(headline(r)).toEqual({ precision_at_1: 0.5 });
  });
});
