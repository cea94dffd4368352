import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHardPositives } from '../../src/benchmarks/hard-positives/loader.js';
import { loadMmvp } from '../../src/benchmarks/mmvp/loader.js';
import { loadMmvpStatements } from '../../src/benchmarks/mmvp-vlm/loader.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'misaligned-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('a duplicated or dropped row fails the shifted pairs with a named reason', () => {
  it('MMVP: consecutive rows that ask different questions fail; the aligned pair is scored', async () => {
    const file = path.join(tmp, 'Questions.csv');
    const q = (i: number, text: string, ans: string) => `${i},${text},(a) Yes (b) No,${ans}`;
    // Row 1 duplicated: Q1 Q1 | Q1 Q2 | Q2 Q3 | Q3
    const rows = [q(1, 'Q1?', '(a)'), q(2, 'Q1?', '(b)'), q(2, 'Q1?', '(b)'), q(3, 'Q2?', '(a)'), q(4, 'Q2?', '(b)'), q(5, 'Q3?', '(a)'), q(6, 'Q3?', '(b)')];
    await writeFile(file, `Index,Question,Options,Correct Answer\n${rows.join('\n')}\n`);
    const r = await loadMmvp(file, { checkImages: false });
    expect(r.items.map((i) => i.source.row)).toEqual([0, 1, 6]);
    expect(r.failures.map((f) => f.source.row)).toEqual([2, 3, 4, 5]);
    expect(r.failures[0]?.reason).toBe(
      `${file} row 2: field Question: pair 1 (rows 2 and 3) asks "Q1?" and "Q2?": misaligned pair (a row dropped or duplicated above shifts every later pair)`,
    );
    expect(r.quirks).toEqual([
      { file, quirk: 'Index column differs from row position + 1 (images and pairs follow the row position)', count: 5, rows: [2, 3, 4, 5, 6] },
    ]);
  });

  it('Questions-clip.csv: a pair that is not qid n (odd), n + 1 fails', async () => {
    const file = path.join(tmp, 'Questions-clip.csv');
    const qids = [1, 2, 3, 3, 4, 5, 6];
    await writeFile(file, `Question ID,Type,Statement\n${qids.map((n) => `${n},Unknown,statement ${n}`).join('\n')}\n`);
    const r = await loadMmvpStatements(file, { layout: 'mmvp-clip', checkImages: false, questionsFile: null });
    expect(r.items.map((i) => i.meta.qids)).toEqual([[1, 2]]);
    expect(r.failures.map((f) => f.reason)).toEqual([
      `pair 1: ${file} row 2 (line 4): field qid: rows 2 and 3 have qids 3 and 3, not n (odd) and n + 1: misaligned pair (a row dropped or duplicated above shifts every later pair)`,
      `pair 2: ${file} row 4 (line 6): field qid: rows 4 and 5 have qids 4 and 5, not n (odd) and n + 1: misaligned pair (a row dropped or duplicated above shifts every later pair)`,
      `pair 3: ${file} row 6 (line 8): field (row): last row has no partner: incomplete pair (the authors' loop stops here and never scores it)`,
    ]);
  });

  it('hard positives: a swapped_data/ row that is not its data/ row fails (image, id or negative differ); quirks are counted', async () => {
    await mkdir(path.join(tmp, 'hp/data'), { recursive: true });
    await mkdir(path.join(tmp, 'hp/swapped_data'), { recursive: true });
    const row = (id: string, t: string, f: string) => ({ image_id: id, true_caption: t, false_caption: f, image_path: `data/VG_100K/${id}.jpg` });
    const data = [
      row('1', 'dog in car', 'dog out of car'),
      row('2', 'cup on table', 'cup under table'),
      row('2', 'cup on table', 'cup under table'),
      row('3', 'man near tree', 'man near tree'),
    ];
    // swapped_data/ lost the row of image 2's first copy: rows 1.. are shifted by one.
    const swapped = [row('1', 'dog within car', 'dog out of car'), row('2', 'cup atop table', 'cup under table'), row('3', 'man by tree', 'man near tree')];
    const file = path.join(tmp, 'hp/data/vl_checklist_relations.json');
    const swappedFile = path.join(tmp, 'hp/swapped_data/vl_checklist_relations.json');
    await writeFile(file, JSON.stringify(data));
    await writeFile(swappedFile, JSON.stringify(swapped));
    const r = await loadHardPositives(file, { dataDir: path.join(tmp, 'hp'), subset: 'replace_rel', checkImages: false });
    expect(r.items.map((i) => i.source.row)).toEqual([0, 1]);
    expect(r.failures.map((f) => f.reason)).toEqual([
      `${swappedFile} row 2: field false_caption "man near tree" differs from ${file} row 2 ("cup under table"): rows misaligned (a row dropped or duplicated shifts every later pair)`,
      `${swappedFile} row 3: missing (the file has 3 rows, ${file} has 4)`,
    ]);
    expect(r.quirks.map((q) => [path.basename(path.dirname(q.file)), q.quirk, q.count, q.rows])).toEqual([
      ['data', 'true_caption equals false_caption (the caption is its own hard negative: a tie)', 1, [3]],
      ['swapped_data', 'true_caption equals false_caption (the hard positive is the hard negative: a tie)', 0, []],
      ['data', 'exact duplicate of an earlier row', 1, [2]],
      ['swapped_data', 'exact duplicate of an earlier row', 0, []],
      ['swapped_data', 'row pair (data/ row and its swapped_data/ row) exactly duplicating an earlier pair', 0, []],
    ]);
  });
});
