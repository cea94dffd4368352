import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMmvpStatements } from '../../src/benchmarks/mmvp-vlm/loader.js';
import { checkDataDir, formatDataCheck, subsetPresent } from '../../src/cli/data-check.js';
import { externalMetrics } from '../../src/cli/metrics.js';

let root: string;

async function touch(file: string, text = 'jpeg'): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'companion-'));
  // MMVP/: Questions-clip.csv (2 pairs) and images, beside a Questions.csv of ANOTHER benchmark (MMVP-VLM's).
  await touch(path.join(root, 'MMVP/Questions-clip.csv'), 'Question ID,Type,Statement\n1,Unknown,a dog\n2,Unknown,a cat\n3,Unknown,a cup\n4,Unknown,a mug\n');
  await touch(path.join(root, 'MMVP/Questions.csv'), 'Question ID,Type,Statement\n1,Orientation,The dog faces left\n');
  for (let q = 1; q <= 4; q++) await touch(path.join(root, `MMVP/MMVP Images/${q}.jpg`));
  // MMVP_VLM/: Questions.csv (1 pair) and a Questions-llava.csv that Python reads but a file with invalid UTF-8 would not.
  await touch(path.join(root, 'MMVP_VLM/Questions.csv'), 'Question ID,Type,Statement\n1,Orientation,The dog faces left\n2,Orientation,The dog faces right\n');
  await touch(path.join(root, 'MMVP_VLM/MLLM_VLM Images/Orientation/1.jpg'));
  await touch(path.join(root, 'MMVP_VLM/MLLM_VLM Images/Orientation/2.jpg'));
  await mkdir(path.join(root, 'bad'), { recursive: true });
  await writeFile(path.join(root, 'bad/Questions-llava.csv'), Buffer.from('lndex,Question\n1,\xe9\n', 'latin1'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a companion file that cannot be read never stops the figures that do not need it', () => {
  it("mmvp_clip: another benchmark's Questions.csv is reported, the CLIP items load without a question", async () => {
    const r = await loadMmvpStatements(path.join(root, 'MMVP/Questions-clip.csv'), { layout: 'mmvp-clip' });
    expect(r.items.map((i) => i.options)).toEqual([
      ['a photo of a dog', 'a photo of a cat'],
      ['a photo of a cup', 'a photo of a mug'],
    ]);
    expect(r.companions).toHaveLength(1);
    expect(r.companions[0]?.status).toBe('unreadable');
    expect(r.companions[0]?.reason).toMatch(/Questions\.csv line 1: header \["Question ID","Type","Statement"\] should start with "lndex"/);
    expect(r.items[0]?.meta.question).toBeUndefined();
    expect(r.items[0]?.meta.question_missing).toMatch(/^questions file .*MMVP\/Questions\.csv unreadable: /);
  });

  it('mmvp_vlm: an unreadable Questions-llava.csv leaves clip_embeds and mmvp_vlm computed (perceive metrics exit 0)', async () => {
    const scores = path.join(root, 'vlm-scores.jsonl');
    await writeFile(scores, '{"id": "0", "scores": [[0.30, 0.20], [0.10, 0.25]]}\n');
    for (const convention of ['clip_embeds', 'mmvp_vlm']) {
      const r = await externalMetrics({
        benchmark: 'mmvp_vlm',
        annotations: path.join(root, 'MMVP_VLM/Questions.csv'),
        scores,
        convention,
        extraFiles: { questions: path.join(root, 'bad/Questions-llava.csv') },
      });
      expect(r.scored).toBe(1);
      expect(r.metrics.headline.find((h) => h.name === 'pair')?.correct).toBe(1);
      expect(r.companions[0]?.status).toBe('unreadable');
      expect(r.companions[0]?.reason).toMatch(/Questions-llava\.csv is not valid UTF-8/);
      expect(r.complete).toBe(true);
    }
  });
});

describe('perceive data check: optional files and every recorded checksum', () => {
  it('reports mmvp_clip present without MMVP Questions.csv, what the missing file would add, and checks Questions-llava.csv', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'companion-dc-'));
    try {
      await touch(path.join(dir, 'MMVP/Questions-clip.csv'), 'Question ID,Type,Statement\n1,Unknown,a dog\n2,Unknown,a cat\n');
      await touch(path.join(dir, 'MMVP/MMVP Images/1.jpg'));
      await touch(path.join(dir, 'MMVP/MMVP Images/2.jpg'));
      await touch(path.join(dir, 'MMVP_VLM/Questions-llava.csv'), 'lndex,Question,Options,Correct Answer\n');
      const report = await checkDataDir(dir);
      const clip = report.subsets.find((s) => s.benchmark === 'mmvp_clip');
      expect(clip && subsetPresent(clip)).toBe(true);
      expect(clip?.items).toBe(1);
      expect(clip?.files.map((f) => [f.path, f.role, f.status])).toEqual([
        ['MMVP/Questions-clip.csv', 'annotations', 'mismatch'],
        ['MMVP/Questions.csv', 'optional questions', 'absent'],
      ]);
      const vlm = report.subsets.find((s) => s.benchmark === 'mmvp_vlm');
      expect(vlm?.files.map((f) => [f.path, f.status])).toEqual([
        ['MMVP_VLM/Questions.csv', 'absent'],
        ['MMVP_VLM/Questions-llava.csv', 'mismatch'],
      ]);
      const text = formatDataCheck(report);
      expect(text).toContain('mmvp_clip (mmvp-clip): present');
      expect(text).toMatch(/MMVP\/Questions\.csv: absent \[optional questions: would add the question of VLM2Vec prompts/);
      expect(text).toMatch(
        /MMVP_VLM\/Questions-llava\.csv: sha256 MISMATCH \([0-9a-f]{64}, published 61740c77888be19627b6e9453661bf4d9cce0756d55150b47ca2ef127f9bf0bc\) \[optional questions\]/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
