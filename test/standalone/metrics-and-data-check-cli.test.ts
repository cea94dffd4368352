import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataDir, formatDataCheck } from '../../src/cli/data-check.js';
import { externalMetrics, formatExternalMetrics } from '../../src/cli/metrics.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/perceive.js');

let root: string;

const hpRow = (id: string, t: string, f: string) => ({ image_id: id, true_caption: t, false_caption: f, image_path: `data/VG_100K/${id}.jpg` });

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'perceive-data-'));
  // whatsup_vlms/data/coco_qa_two_obj.json with one image missing
  await mkdir(path.join(root, 'whatsup_vlms/data/val2017'), { recursive: true });
  await writeFile(
    path.join(root, 'whatsup_vlms/data/coco_qa_two_obj.json'),
    JSON.stringify([
      [1, 'A photo of a dog to the left of a cat', 'A photo of a dog to the right of a cat'],
      [2, 'A photo of a cup above a table', 'A photo of a cup below a table'],
      ['x', 'bad'],
    ]),
  );
  await writeFile(path.join(root, 'whatsup_vlms/data/val2017/000000000001.jpg'), 'jpeg');
  // hard_positives: relations present (published bytes differ from ours → mismatch)
  for (const d of ['hard_positives/data/VG_100K', 'hard_positives/swapped_data']) await mkdir(path.join(root, d), { recursive: true });
  await writeFile(path.join(root, 'hard_positives/data/vl_checklist_relations.json'), JSON.stringify([hpRow('1', 'dog in car', 'dog out of car')]));
  await writeFile(path.join(root, 'hard_positives/swapped_data/vl_checklist_relations.json'), JSON.stringify([hpRow('1', 'dog within car', 'dog out of car')]));
  await writeFile(path.join(root, 'hard_positives/data/VG_100K/1.jpg'), 'jpeg');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('perceive metrics', () => {
  it('reports unusable score lines by line number and computes the rest', async () => {
    const scores = path.join(root, 'scores.jsonl');
    await writeFile(
      scores,
      [
        '{"id": "0", "scores": [[0.5, 0.5]]}',
        '{"id": 1, "scores": [[0.1, 0.9]]}',
        'not json',
        '{"id": "2", "scores": [[0.1, 0.9]]}',
        '{"id": "7", "scores": [[0.1, 0.9]]}',
        '{"id": "0", "scores": [[0.1, 0.9]]}',
        '{"id": "1", "scores": [[0.1, 0.9, 0.3]]}',
        '{"id": "1", "score": [[0.1, 0.9]]}',
        '',
      ].join('\n'),
    );
    const r = await externalMetrics({
      benchmark: 'whatsup.coco_qa_two',
      annotations: path.join(root, 'whatsup_vlms/data/coco_qa_two_obj.json'),
      scores,
    });
    expect(r.convention).toBe('whatsup_vlms');
    expect(r.items).toBe(2);
    expect(r.scored).toBe(2);
    // row 0 tie → right (np.argmax), row 1 wrong
    expect(r.metrics.headline).toEqual([{ name: 'individual', convention: 'whatsup_vlms', value: 0.5, correct: 1, total: 2 }]);
    expect(r.loadFailures.map((f) => f.source.row)).toEqual([2]);
    expect(r.scoreProblems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(r.scoreProblems[1]!.reason).toMatch(/id 2: that annotation row failed to load/);
    expect(r.scoreProblems[2]!.reason).toMatch(/id 7: no such row/);
    expect(r.scoreProblems[3]!.reason).toMatch(/duplicate/);
    expect(r.scoreProblems[4]!.reason).toMatch(/id 1: duplicate/);
    expect(r.scoreProblems[5]!.reason).toMatch(/field scores: /);
    const text = formatExternalMetrics(r);
    expect(text).toContain('whatsup_vlms individual: 50.00%  (1 / 2)');
    expect(text).toContain('perPreposition[left].accuracy: 1');
    // clip_embeds on the same scores: the tie is wrong
    const c = await externalMetrics({
      benchmark: 'whatsup.coco_qa_two',
      annotations: path.join(root, 'whatsup_vlms/data/coco_qa_two_obj.json'),
      scores,
      convention: 'clip_embeds',
    });
    expect(c.metrics.headline[0]).toMatchObject({ convention: 'clip_embeds', correct: 0, total: 2 });
    await expect(externalMetrics({ benchmark: 'nope', annotations: scores, scores })).rejects.toThrow(/no benchmark subset named "nope"/);
  });

  it('runs as a command with --json', async () => {
    const scores = path.join(root, 'hp.jsonl');
    await writeFile(scores, '{"id": "0", "scores": [[0.1, 0.5, 0.4]]}\n');
    const { stdout } = await run(process.execPath, [
      BIN,
      'metrics',
      '--benchmark',
      'hard_positives.replace_rel',
      '--annotations',
      path.join(root, 'hard_positives/data/vl_checklist_relations.json'),
      '--scores',
      scores,
      '--json',
    ]);
    const out = JSON.parse(stdout) as { convention: string; metrics: { headline: Array<{ name: string; value: number }> } };
    expect(out.convention).toBe('hard_positives');
    expect(out.metrics.headline.map((h) => [h.name, h.value])).toEqual([
      ['original', 1],
      ['augmented', 1],
      ['brittleness', 0],
    ]);
  }, 60_000);
});

describe('perceive data check', () => {
  it('lists present and absent files, checksums, item counts and failed rows', async () => {
    const report = await checkDataDir(root);
    const coco = report.subsets.find((s) => s.benchmark === 'whatsup.coco_qa_two')!;
    expect(coco.files[0]).toMatchObject({ present: true, status: 'unknown', expected: null });
    expect(coco).toMatchObject({ items: 1, failedRows: 2, missingImages: 1, invalidRows: 1 });
    const a = report.subsets.find((s) => s.benchmark === 'whatsup.controlled_a')!;
    expect(a.files[0]).toMatchObject({ present: false, status: 'absent' });
    expect(a.items).toBeNull();
    const hp = report.subsets.find((s) => s.benchmark === 'hard_positives.replace_rel')!;
    expect(hp.files.map((f) => f.status)).toEqual(['mismatch', 'mismatch']);
    expect(hp.files[0]!.expected).toBe('f4aee47194df09f73c4bdb13e2f24c17901d71fbb15ab629b40c8667a841d535');
    expect(hp.files[0]!.sha256).toBe(
      createHash('sha256')
        .update(JSON.stringify([hpRow('1', 'dog in car', 'dog out of car')]))
        .digest('hex'),
    );
    expect(hp.items).toBe(1);
    const text = formatDataCheck(report);
    expect(text).toContain('whatsup.controlled_a (whatsup-controlled): absent');
    expect(text).toMatch(/hard_positives\/data\/vl_checklist_relations\.json: sha256 MISMATCH/);
    expect(text).toMatch(/coco_qa_two_obj\.json: sha256 [0-9a-f]{64} \(published checksum unknown\)/);
    // --decode finds the fake JPEG unreadable
    const decoded = await checkDataDir(root, { decode: true });
    expect(decoded.subsets.find((s) => s.benchmark === 'whatsup.coco_qa_two')!.unreadableImages).toBe(1);
  });
});
