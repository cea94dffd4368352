import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkFamily } from '../../src/benchmarks/registry.js';
import { checkDataDir } from '../../src/cli/data-check.js';
import { externalMetrics, formatExternalMetrics } from '../../src/cli/metrics.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';
import { writeSyntheticSugarCrepe } from '../../src/fixtures/synthetic-sugarcrepe.js';
import type { ScoreMatrix } from '../../src/core/item.js';
import { referencesFor } from '../../src/report/reference-numbers.js';

let tmp: string;
let root: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sugarcrepe-'));
  root = path.join(tmp, 'root');
  // The data-check layout: sugar_crepe/data/*.json + coco/val2017/
  await writeSyntheticSugarCrepe(path.join(tmp, 'synthetic'), { seed: 3, perSubset: 4 });
  const { mkdir, cp } = await import('node:fs/promises');
  await mkdir(path.join(root, 'sugar_crepe'), { recursive: true });
  await mkdir(path.join(root, 'coco'), { recursive: true });
  await cp(path.join(tmp, 'synthetic/data'), path.join(root, 'sugar_crepe/data'), { recursive: true });
  await cp(path.join(tmp, 'synthetic/val2017'), path.join(root, 'coco/val2017'), { recursive: true });
  // The earlier spelling of one file: add_ent.json instead of add_obj.json.
  await rename(path.join(root, 'sugar_crepe/data/add_obj.json'), path.join(root, 'sugar_crepe/data/add_ent.json'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const spec = (subset: string, file: string, over: Record<string, unknown> = {}) =>
  BenchmarkSpecSchema.parse({
    name: `sc.${subset}`,
    format: 'sugarcrepe',
    annotations: path.join(root, 'sugar_crepe/data', file),
    data_dir: path.join(root, 'coco/val2017'),
    subset,
    ...over,
  });

describe('SugarCrepe', () => {
  it('loads {id: {filename, caption, negative_caption}} into [caption, negative] items', async () => {
    const { items, failures } = await benchmarkFamily('sugarcrepe').load(spec('replace_rel', 'replace_rel.json'));
    expect(failures).toEqual([]);
    expect(items).toHaveLength(4);
    expect(items[0]).toMatchObject({
      id: 'sc.replace_rel/0',
      correct: 0,
      groups: { subset: 'replace_rel', category: 'replace', key: '0', file: 'replace_rel' },
    });
    expect(items[0]!.options[1]).toContain('to the right of');
    expect(items[0]!.images[0]).toMatch(/coco\/val2017\/0000000000\d\d\.jpg$/);
  });

  it('reads the other spelling (add_ent.json for add_obj.json) and says which it read', async () => {
    const { items } = await benchmarkFamily('sugarcrepe').load(spec('add_obj', 'add_obj.json'));
    expect(items).toHaveLength(4);
    expect(items[0]!.source.file).toBe(path.join(root, 'sugar_crepe/data/add_ent.json'));
    expect(items[0]!.groups.file).toBe('add_ent');
  });

  it('fails bad rows naming file, row, id and field; the rest load', async () => {
    const file = path.join(tmp, 'bad.json');
    const good = JSON.parse(await readFile(path.join(root, 'sugar_crepe/data/swap_att.json'), 'utf8'));
    await writeFile(
      file,
      JSON.stringify({
        0: good['0'],
        7: { filename: 'x.jpg', caption: 'a' },
        9: { ...good['1'], filename: '../x.jpg' },
        10: { ...good['1'], filename: 'missing.jpg' },
      }),
    );
    const { items, failures } = await benchmarkFamily('sugarcrepe').load(spec('swap_att', 'swap_att.json', { annotations: file }));
    expect(items).toHaveLength(1);
    expect(failures.map((f) => f.reason)).toEqual([
      `${file} row 1 (id "7"): field negative_caption: Invalid input: expected string, received undefined`,
      expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} row 2 \\(id "9"\\): field filename: climbs out of the data dir`)),
      expect.stringMatching(/row 3 \(id "10"\): field filename: image .*missing\.jpg not found or unreadable$/),
    ]);
  });

  it('scores as main_eval.py: caption strictly above the negative (a tie is wrong)', async () => {
    const family = benchmarkFamily('sugarcrepe');
    const { items } = await family.load(spec('replace_rel', 'replace_rel.json'));
    const rows: ScoreMatrix[] = [[[0.3, 0.2]], [[0.25, 0.25]], [[0.1, 0.4]], [[0.5, 0.49]]];
    const scores = new Map(items.map((it, i) => [it.id, rows[i]!] as const));
    const m = family.metrics(items, scores);
    // right: rows 0 and 3; the tie (row 1) and row 2 are wrong → 2/4
    expect(m.headline).toEqual([{ name: 'accuracy', convention: 'sugarcrepe', value: 0.5, correct: 2, total: 4 }]);
    expect(family.judge(items[1]!, rows[1]!)).toEqual({ prediction: 1, correct: false });
    expect(family.judge(items[0]!, rows[0]!)).toEqual({ prediction: 0, correct: true });
    // a missing item is left out, not counted wrong
    scores.delete(items[2]!.id);
    expect(family.metrics(items, scores).headline[0]).toMatchObject({ value: 2 / 3, correct: 2, total: 3 });
  });

  it('sugarcrepe.all: per subset, per-category means and their mean (hand-checked)', async () => {
    const family = benchmarkFamily('sugarcrepe');
    const { items, failures } = await family.load(spec('all', 'add_obj.json'));
    expect(failures).toEqual([]);
    expect(items).toHaveLength(28);
    // Right answers per subset (4 rows each): add_obj 4, add_att 3, replace_obj 2, replace_att 1, replace_rel 0, swap_obj 2, swap_att 1 (ties where wrong)
    const right: Record<string, number> = { add_obj: 4, add_att: 3, replace_obj: 2, replace_att: 1, replace_rel: 0, swap_obj: 2, swap_att: 1 };
    const scores = new Map<string, ScoreMatrix>();
    for (const it of items) {
      const k = Number(it.groups.key);
      scores.set(it.id, k < right[it.groups.subset!]! ? [[0.3, 0.2]] : [[0.2, 0.2]]);
    }
    const m = family.metrics(items, scores);
    const h = Object.fromEntries(m.headline.map((x) => [x.name, x.value]));
    expect(h).toMatchObject({ add_obj: 1, add_att: 0.75, replace_obj: 0.5, replace_att: 0.25, replace_rel: 0, swap_obj: 0.5, swap_att: 0.25 });
    expect(h.replace).toBeCloseTo(0.25, 12); // (0.5 + 0.25 + 0) / 3
    expect(h.swap).toBeCloseTo(0.375, 12); // (0.5 + 0.25) / 2
    expect(h.add).toBeCloseTo(0.875, 12); // (1 + 0.75) / 2
    expect(h.mean).toBeCloseTo(13 / 28, 12); // (1 + .75 + .5 + .25 + 0 + .5 + .25) / 7 = 3.25 / 7 = 13/28
    expect((m.details as { perSubset: Array<{ file: string }> }).perSubset[0]!.file).toBe('add_ent');
    expect(family.externalId(items[5]!)).toBe('add_att/1');
  });

  it('perceive metrics on a subset file and its SCORES.jsonl', async () => {
    const scoresFile = path.join(tmp, 'scores.jsonl');
    await writeFile(
      scoresFile,
      ['{"id":"0","scores":[[0.3,0.2]]}', '{"id":"1","scores":[[0.2,0.2]]}', '{"id":"2","scores":[[0.2,0.3,0.1]]}', '{"id":"3","scores":[[0.9,0.1]]}'].join(
        '\n',
      ),
    );
    const r = await externalMetrics({ benchmark: 'sugarcrepe.swap_obj', annotations: path.join(root, 'sugar_crepe/data/swap_obj.json'), scores: scoresFile });
    expect(r.metrics.headline[0]).toMatchObject({ correct: 2, total: 3 });
    expect(r.scoreProblems).toEqual([{ line: 3, reason: 'id 2: expected 1 image row of 2 scores [caption, negative_caption], got 1 row(s) of 3' }]);
    expect(formatExternalMetrics(r)).toContain('sugarcrepe accuracy: 66.67%  (2 / 3)');
  });

  it('perceive data check: sha256 against the published files, either spelling', async () => {
    const report = await checkDataDir(root);
    const addObj = report.subsets.find((s) => s.benchmark === 'sugarcrepe.add_obj')!;
    expect(addObj.files[0]).toMatchObject({
      path: 'sugar_crepe/data/add_ent.json',
      present: true,
      status: 'mismatch',
      expected: 'a95b4cb14541d4e86ba2bdb159b9748b5f4a98e213fcd5a534f0ced6b93d50af',
    });
    expect(addObj.items).toBe(4);
    const rel = report.subsets.find((s) => s.benchmark === 'sugarcrepe.replace_rel')!;
    const bytes = await readFile(path.join(root, 'sugar_crepe/data/replace_rel.json'));
    expect(rel.files[0]).toMatchObject({
      status: 'mismatch',
      expected: '356bcc2fc4c6aed3f4d9fd50acc58489bb1fe70c28791f9368d4cbf9ea39cdc9',
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    const all = report.subsets.find((s) => s.benchmark === 'sugarcrepe.all')!;
    expect(all.files.map((f) => f.path)).toContain('sugar_crepe/data/add_ent.json');
    expect(all).toMatchObject({ items: 28, failedRows: 0 });
  });

  it("reference numbers: the authors' table, verified; Winoground's unverified", () => {
    const rel = referencesFor('sugarcrepe', 'replace_rel');
    expect(rel.map((r) => [r.model, r.value, r.verified])).toEqual([
      ['OpenAI CLIP ViT-B-32 (open_clip)', 69.2, true],
      ['OpenAI CLIP ViT-L-14 (224 px, open_clip)', 65.15, true],
      ['Human', 97, true],
    ]);
    expect(referencesFor('sugarcrepe', 'all')).toHaveLength(21);
    expect(referencesFor('winoground', 'winoground').every((r) => !r.verified)).toBe(true);
  });

  it('the synthetic set is byte-identical for a seed', async () => {
    const a = await writeSyntheticSugarCrepe(path.join(tmp, 'a'), { seed: 5, perSubset: 1 });
    const b = await writeSyntheticSugarCrepe(path.join(tmp, 'b'), { seed: 5, perSubset: 1 });
    for (const s of Object.keys(a.files)) expect(await readFile(a.files[s]!)).toEqual(await readFile(b.files[s]!));
    expect(await readFile(path.join(a.imageDir, '000000000007.jpg'))).toEqual(await readFile(path.join(b.imageDir, '000000000007.jpg')));
  });
});
