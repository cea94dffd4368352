/**
 * One benchmark entry per family for a suite of any size (bench/scale.ts): the seeded synthetic
 * sets (What'sUp: 32 items each, ARO-style: 1,000 rows each, MMVP: 300 rows each) joined into one
 * annotation file per family, so a suite of 32,000 items has three benchmarks, as a real suite has a
 * fixed few, not hundreds. Images are hard links into one folder per family (the same bytes, so the
 * same image hashes), renamed where the family's keys come from the file name: What'sUp's set key is
 * `<obj1>_…_<obj2>`, so seed k's `mug_left_of_plate.jpeg` becomes `mugk_left_of_platek.jpeg` (its own
 * set and pairs); MMVP's image is its row number, so rows are renumbered in order (pairs stay
 * consecutive). Written once per size under the bench cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeSyntheticMmvp } from '../../src/fixtures/synthetic-mmvp.js';
import { benchCacheDir, whatsupBenchmarks } from './bench-setup.js';
import { writeSyntheticAro } from './synthetic-aro.js';

export interface JoinedSet {
  format: string;
  annotations: string;
  data_dir: string;
  subset: string;
}

const ARO_ROWS_PER_SET = 1000;
const MMVP_ROWS_PER_SET = 300;

function link(from: string, to: string): void {
  if (!fs.existsSync(to)) fs.linkSync(from, to);
}

function writeOnce(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

/** At least `items` What'sUp Controlled-A items in one annotation file (`whatsup/joined/`). */
export async function joinedWhatsUp(items: number): Promise<JoinedSet> {
  const root = path.join(benchCacheDir(), 'whatsup', 'joined');
  const annotations = path.join(root, `controlled_images_dataset-${items}.json`);
  const set: JoinedSet = { format: 'whatsup-controlled', annotations, data_dir: root, subset: 'controlled_a' };
  if (fs.existsSync(annotations)) return set;
  fs.mkdirSync(path.join(root, 'img'), { recursive: true });
  const rows: unknown[] = [];
  for (const [k, b] of (await whatsupBenchmarks(items)).entries()) {
    const list = JSON.parse(fs.readFileSync(b.annotations, 'utf8')) as Array<{ image_path: string; caption_options: string[] }>;
    for (const row of list) {
      const name = path.basename(row.image_path);
      const parts = name.slice(0, -'.jpeg'.length).split('_');
      const renamed = `${parts[0]}${k + 1}_${parts.slice(1, -1).join('_')}_${parts.at(-1)}${k + 1}.jpeg`;
      link(path.join(b.data_dir, row.image_path), path.join(root, 'img', renamed));
      rows.push({ image_path: `img/${renamed}`, caption_options: row.caption_options });
    }
  }
  writeOnce(annotations, JSON.stringify(rows.slice(0, items)));
  return set;
}

/** At least `items` ARO-style VG-Relation rows in one annotation file (`aro/`, images under `aro/seed-k/images/`). */
export async function joinedAro(items: number): Promise<JoinedSet> {
  const root = path.join(benchCacheDir(), 'aro');
  const annotations = path.join(root, `visual_genome_relation-${items}.json`);
  const set: JoinedSet = { format: 'aro-vg', annotations, data_dir: root, subset: 'vg_relation' };
  if (fs.existsSync(annotations)) return set;
  const rows: unknown[] = [];
  for (let k = 0; k * ARO_ROWS_PER_SET < items; k++) {
    const s = await writeSyntheticAro(path.join(root, `seed-${k + 1}`), { seed: k + 1, rows: ARO_ROWS_PER_SET });
    const list = JSON.parse(fs.readFileSync(s.annotations, 'utf8')) as Array<{ image_path: string }>;
    for (const row of list) rows.push({ ...row, image_path: `seed-${k + 1}/images/${row.image_path}` });
  }
  writeOnce(annotations, JSON.stringify(rows.slice(0, items)));
  return set;
}

/** At least `items` MMVP rows in one Questions file (`mmvp/joined/`, images renumbered). */
export async function joinedMmvp(items: number): Promise<JoinedSet> {
  const root = path.join(benchCacheDir(), 'mmvp', 'joined');
  const annotations = path.join(root, `Questions-${items}.csv`);
  const set: JoinedSet = { format: 'mmvp', annotations, data_dir: root, subset: 'mmvp' };
  if (fs.existsSync(annotations)) return set;
  fs.mkdirSync(path.join(root, 'MMVP Images'), { recursive: true });
  const lines = ['Index,Question,Options,Correct Answer'];
  for (let k = 0; k * MMVP_ROWS_PER_SET < items; k++) {
    const dir = path.join(benchCacheDir(), 'mmvp', `seed-${k + 1}`);
    if (!fs.existsSync(path.join(dir, 'Questions.csv'))) await writeSyntheticMmvp(dir, { seed: k + 1, pairs: MMVP_ROWS_PER_SET / 2 });
    const rows = fs.readFileSync(path.join(dir, 'Questions.csv'), 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const index = lines.length;
      link(path.join(dir, 'MMVP Images', `${row.slice(0, row.indexOf(','))}.jpg`), path.join(root, 'MMVP Images', `${index}.jpg`));
      lines.push(`${index}${row.slice(row.indexOf(','))}`);
    }
  }
  writeOnce(annotations, `${lines.slice(0, items + 1).join('\n')}\n`);
  return set;
}
