import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item, ScoreMatrix } from '../../src/core/item.js';
import { aroOrderMetrics, aroVgMetrics, ARO_SYMMETRIC_RELATIONS, orderItemCorrect, vgItemCorrect } from '../../src/benchmarks/aro/metrics.js';
import { loadOrder, orderCaptionOptions } from '../../src/benchmarks/aro/order-loader.js';
import { getTrigrams, shuffleAllButNounsAndAdj, shuffleNounsAndAdj, shuffleTrigrams, shuffleWithinTrigrams } from '../../src/benchmarks/aro/perturbations.js';
import { tagWords, wordTokenize } from '../../src/benchmarks/aro/pos-tagger.js';
import { preCaption } from '../../src/benchmarks/aro/pre-caption.js';
import { streamFor } from '../../src/benchmarks/aro/seeded-shuffle.js';
import { loadVg } from '../../src/benchmarks/aro/vg-loader.js';
import { aroOrderFamily, aroVgFamily } from '../../src/benchmarks/aro/family.js';
import { BenchmarkSpecSchema } from '../../src/config/experiment.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'aro-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function touch(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'jpeg');
}

const sorted = (s: string): string => s.split(' ').sort().join(' ');

describe('pre_caption and the perturbations', () => {
  it('pre_caption lower-cases, blanks . ! " ( ) * # : ; ~, squeezes spaces, strips, truncates', () => {
    expect(preCaption('A man (in red) riding a horse.', 30)).toBe('a man in red riding a horse');
    expect(preCaption('  Two   dogs; one "cat"!  ', 30)).toBe('two dogs one cat');
    expect(preCaption('a b c d e', 3)).toBe('a b c');
    expect(preCaption("The man's hat, on a table .", 30)).toBe("the man's hat, on a table");
  });

  it('tags nouns and adjectives as spaCy NN*/JJ*, splitting punctuation and clitics', () => {
    expect(tagWords("The man's big, old hat.").map((t) => `${t.text}/${t.cls}`)).toEqual([
      'The/OTHER',
      'man/NOUN',
      "'s/OTHER",
      'big/ADJ',
      ',/OTHER',
      'old/ADJ',
      'hat/NOUN',
      './OTHER',
    ]);
    // compromise calls "riding" a noun here; spaCy says VBG: the -ing-after-a-noun rule makes it OTHER.
    expect(tagWords('A man riding a brown horse').map((t) => t.cls)).toEqual(['OTHER', 'NOUN', 'OTHER', 'OTHER', 'ADJ', 'NOUN']);
    expect(wordTokenize('A dog, running.')).toEqual(['A', 'dog', ',', 'running', '.']);
  });

  it('get_trigrams groups by three with a short last group; every shuffle keeps the tokens', () => {
    expect(getTrigrams([1, 2, 3, 4, 5, 6, 7])).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    const c = 'A man riding a brown horse on the beach.';
    const tokens = 'A man riding a brown horse on the beach .';
    const rng = streamFor(3, 0);
    const na = shuffleNounsAndAdj(c, rng);
    expect(sorted(na)).toBe(sorted(tokens));
    // only noun positions (1, 5, 8) and the adjective (4) may change
    const naTokens = na.split(' ');
    expect([naTokens[0], naTokens[2], naTokens[3], naTokens[6], naTokens[7], naTokens[9]]).toEqual(['A', 'riding', 'a', 'on', 'the', '.']);
    expect(naTokens[4]).toBe('brown');
    const ab = shuffleAllButNounsAndAdj(c, rng).split(' ');
    expect([ab[1], ab[4], ab[5], ab[8]]).toEqual(['man', 'brown', 'horse', 'beach']);
    const wt = shuffleWithinTrigrams(c, rng).split(' ');
    expect(sorted(wt.slice(0, 3).join(' '))).toBe(sorted('A man riding'));
    expect(wt[9]).toBe('.');
    const tg = shuffleTrigrams(c, rng);
    expect(sorted(tg)).toBe(sorted(tokens));
  });

  it('the five options: pre_caption(original) first, then the four perturbations, deterministic for (seed, index)', () => {
    const o = orderCaptionOptions('A man riding a brown horse on the beach.', 0, 7);
    expect(o).toHaveLength(5);
    expect(o[0]).toBe('a man riding a brown horse on the beach');
    for (const p of o) expect(sorted(p)).toBe(sorted('a man riding a brown horse on the beach'));
    expect(orderCaptionOptions('A man riding a brown horse on the beach.', 0, 7)).toEqual(o);
    expect(orderCaptionOptions('A man riding a brown horse on the beach.', 1, 7)).not.toEqual(o);
  });
});

function vgItem(row: number, key: 'relation' | 'attributes', name: string): Item {
  return {
    id: `vg/${row}`,
    benchmark: 'aro',
    subset: 'vg',
    images: ['/i.jpg'],
    options: ['false', 'true'],
    correct: 1,
    groups: { [key]: name },
    source: { file: 'x.json', row },
    meta: {},
  };
}

describe('ARO metrics', () => {
  it('VG item: argmax must be 1, so a tie is wrong; Order item: argmax must be 0, so a tie with the original is right', () => {
    expect(vgItemCorrect([[0.2, 0.3]])).toBe(true);
    expect(vgItemCorrect([[0.3, 0.3]])).toBe(false);
    expect(orderItemCorrect([[0.5, 0.5, 0.1, 0.5, 0.2]])).toBe(true);
    expect(orderItemCorrect([[0.4, 0.5, 0.1, 0.5, 0.2]])).toBe(false);
  });

  it("VG-Relation macro accuracy drops the notebook's symmetric relations, and no count filter", () => {
    expect(ARO_SYMMETRIC_RELATIONS).toHaveLength(157);
    expect(ARO_SYMMETRIC_RELATIONS).toContain('next to');
    // "on": 3 items (2 right); "wearing": 1 item (right); "next to" (symmetric): 2 items (0 right).
    const items = [
      vgItem(0, 'relation', 'on'),
      vgItem(1, 'relation', 'on'),
      vgItem(2, 'relation', 'on'),
      vgItem(3, 'relation', 'wearing'),
      vgItem(4, 'relation', 'next to'),
      vgItem(5, 'relation', 'next to'),
    ];
    const s = new Map<string, ScoreMatrix>([
      ['vg/0', [[0, 1]]],
      ['vg/1', [[0, 1]]],
      ['vg/2', [[1, 1]]], // tie: wrong
      ['vg/3', [[0.1, 0.2]]],
      ['vg/4', [[1, 0]]],
      ['vg/5', [[1, 1]]],
    ]);
    const m = aroVgMetrics('relation', items, s);
    expect(m.records.map((r) => [r.name, r.count, r.accuracy, r.dropped])).toEqual([
      ['next to', 2, 0, 'symmetric'],
      ['on', 3, 2 / 3, null],
      ['wearing', 1, 1, null],
    ]);
    expect(m.macro.value).toBeCloseTo((2 / 3 + 1) / 2, 12); // 0.8333
    expect(m.macroAllClasses.value).toBeCloseTo((0 + 2 / 3 + 1) / 3, 12);
    expect(m.micro).toEqual({ correct: 3, total: 6, accuracy: 0.5 });
  });

  it('VG-Attribution macro accuracy keeps only attribute pairs with at least 25 samples', () => {
    const items: Item[] = [];
    const s = new Map<string, ScoreMatrix>();
    // "white_black": 25 items, 20 right; "red_blue": 24 items, all right (dropped).
    for (let i = 0; i < 25; i++) {
      items.push(vgItem(i, 'attributes', 'white_black'));
      s.set(`vg/${i}`, i < 20 ? [[0, 1]] : [[1, 0]]);
    }
    for (let i = 25; i < 49; i++) {
      items.push(vgItem(i, 'attributes', 'red_blue'));
      s.set(`vg/${i}`, [[0, 1]]);
    }
    const m = aroVgMetrics('attribution', items, s);
    expect(m.records.map((r) => [r.name, r.count, r.dropped])).toEqual([
      ['red_blue', 24, 'fewer_than_25'],
      ['white_black', 25, null],
    ]);
    expect(m.macro).toEqual({ value: 0.8, classes: 1 });
    // A missing item does not change the class size the filter sees.
    s.delete('vg/0');
    expect(aroVgMetrics('attribution', items, s).records[1]).toMatchObject({ count: 25, scored: 24, dropped: null });
  });

  it('Order Precision@1', () => {
    const items = [0, 1, 2].map((r) => ({ ...vgItem(r, 'relation', 'x'), correct: 0, options: ['a', 'b', 'c', 'd', 'e'] }));
    const m = aroOrderMetrics(
      items,
      new Map([
        ['vg/0', [[1, 1, 1, 1, 1]]],
        ['vg/1', [[0, 1, 0, 0, 0]]],
      ]),
    );
    expect(m.precisionAt1).toEqual({ correct: 1, total: 2, accuracy: 0.5 });
    expect(m.missingIds).toEqual(['vg/2']);
  });
});

describe('ARO loaders', () => {
  it('VG-Relation: second caption correct, bbox as crop, refuses escaping and absolute paths and bad rows', async () => {
    const dir = path.join(tmp, 'vg');
    await touch(path.join(dir, 'images', '2316.jpg'));
    await touch(path.join(tmp, 'outside.jpg'));
    const row = {
      image_id: '2316',
      relation_name: 'on',
      bbox_x: 10,
      bbox_y: 20,
      bbox_w: 100,
      bbox_h: 50,
      true_caption: 'the cup is on the table',
      false_caption: 'the table is on the cup',
    };
    const rows = [
      { ...row, image_path: '2316.jpg' },
      { ...row, image_path: '../../outside.jpg' },
      { ...row, image_path: path.join(tmp, 'outside.jpg') },
      { ...row, image_path: '2316.jpg', bbox_w: 'wide' },
      { ...row, image_path: 'missing.jpg' },
    ];
    const file = path.join(dir, 'visual_genome_relation.json');
    await writeFile(file, JSON.stringify(rows));
    const { items, failures } = await loadVg('relation', file, { dataDir: dir });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      images: [path.join(dir, 'images', '2316.jpg')],
      options: ['the table is on the cup', 'the cup is on the table'],
      correct: 1,
      groups: { relation: 'on' },
      meta: { crop: { x: 10, y: 20, w: 100, h: 50 } },
    });
    expect(failures.map((f) => f.source.row)).toEqual([1, 2, 3, 4]);
    expect(failures[0]?.reason).toContain(`${file} row 1: field image_path: image path climbs out of the data dir`);
    expect(failures[1]?.reason).toContain('is an absolute path');
    expect(failures[2]?.reason).toContain('field bbox_w');
    expect(failures[3]?.reason).toContain('not found or unreadable');
  });

  it('VG-Attribution: the class key is attributes[0]_attributes[1]', async () => {
    const dir = path.join(tmp, 'vga');
    await touch(path.join(dir, 'images', '1.jpg'));
    const file = path.join(dir, 'visual_genome_attribution.json');
    await writeFile(
      file,
      JSON.stringify([
        {
          image_path: '1.jpg',
          bbox_x: 0,
          bbox_y: 0,
          bbox_w: 5,
          bbox_h: 5,
          true_caption: 'the white cat and the black dog',
          false_caption: 'the black cat and the white dog',
          attributes: ['white', 'black'],
        },
      ]),
    );
    const { items } = await loadVg('attribution', file, { dataDir: dir });
    expect(items[0]?.groups.attributes).toBe('white_black');
  });

  it('Order: one test case per caption in file order, ids by test case; a pre-built options file is used as is', async () => {
    const dir = path.join(tmp, 'coco');
    await touch(path.join(dir, 'val2014', 'a.jpg'));
    await touch(path.join(dir, 'val2014', 'b.jpg'));
    const file = path.join(dir, 'coco_karpathy_test.json');
    await writeFile(
      file,
      JSON.stringify([
        { image: 'val2014/a.jpg', caption: ['A man riding a brown horse.', 'A person on a horse near the sea.'] },
        { image: '../b.jpg', caption: ['Escapes.'] },
        { image: 'val2014/b.jpg', caption: ['Two dogs playing with a red frisbee.'] },
      ]),
    );
    const { items, failures } = await loadOrder(file, { dataDir: dir, subset: 'coco_order', seed: 0 });
    expect(items.map((i) => i.id)).toEqual(['coco_order/0', 'coco_order/1', 'coco_order/3']);
    expect(items[0]?.options[0]).toBe('a man riding a brown horse');
    expect(items[0]?.options).toEqual(orderCaptionOptions('A man riding a brown horse.', 0, 0));
    expect(items[2]?.options).toEqual(orderCaptionOptions('Two dogs playing with a red frisbee.', 0, 3));
    expect(items[2]).toMatchObject({ correct: 0, meta: { annotation_row: 2 } });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ source: { row: 2 } });
    expect(failures[0]?.reason).toContain('row 1 (test case 2): field image: image path climbs out');
    // limit counts test cases and does not change the options of the ones kept.
    const limited = await loadOrder(file, { dataDir: dir, subset: 'coco_order', seed: 0, limit: 1 });
    expect(limited.items.map((i) => i.options)).toEqual([items[0]?.options]);

    const prebuilt = path.join(dir, 'prebuilt.json');
    await writeFile(
      prebuilt,
      JSON.stringify([
        { image: 'val2014/a.jpg', caption_options: ['a man on a horse', 'a horse on a man', 'man a on horse a', 'on a man a horse', 'a horse a man on'] },
      ]),
    );
    const p = await loadOrder(prebuilt, { dataDir: dir });
    expect(p.prebuilt).toBe(true);
    expect(p.items[0]?.options).toEqual(['a man on a horse', 'a horse on a man', 'man a on horse a', 'on a man a horse', 'a horse a man on']);
  });

  it('Order: a row without captions fails with its JSON row and field; a non-list file is refused', async () => {
    const dir = path.join(tmp, 'coco-bad');
    await touch(path.join(dir, 'val2014', 'a.jpg'));
    const file = path.join(dir, 'coco_karpathy_test.json');
    await writeFile(file, JSON.stringify([{ image: 'val2014/a.jpg' }, { image: 'val2014/a.jpg', caption: ['A dog.'] }]));
    const { items, failures } = await loadOrder(file, { dataDir: dir });
    // The bad row keeps one test-case index, so its failure id (0) never collides with an item's.
    expect(items.map((i) => i.id)).toEqual(['coco_order/1']);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.source.row).toBe(0);
    expect(failures[0]?.reason.startsWith(`${file} row 0 (test case 0): field caption: `)).toBe(true);
    await writeFile(file, JSON.stringify({ images: [] }));
    await expect(loadOrder(file, { dataDir: dir })).rejects.toThrow(/must be a JSON list/);
  });

  it('the families load through the interface and report macro / Precision@1', async () => {
    const dir = path.join(tmp, 'fam');
    await touch(path.join(dir, 'images', '1.jpg'));
    const file = path.join(dir, 'visual_genome_relation.json');
    const row = { image_path: '1.jpg', bbox_x: 0, bbox_y: 0, bbox_w: 5, bbox_h: 5, true_caption: 't', false_caption: 'f' };
    await writeFile(
      file,
      JSON.stringify([
        { ...row, relation_name: 'on' },
        { ...row, relation_name: 'with' },
      ]),
    );
    const spec = BenchmarkSpecSchema.parse({ name: 'aro.vg_relation', format: 'aro-vg', annotations: file, data_dir: dir, subset: 'vg_relation' });
    const { items } = await aroVgFamily.load(spec);
    expect(items.map((i) => [i.id, i.groups.convention])).toEqual([
      ['aro.vg_relation/0', 'aro'],
      ['aro.vg_relation/1', 'aro'],
    ]);
    expect(aroVgFamily.judge(items[0] as Item, [[0.5, 0.5]])).toEqual({ prediction: 0, correct: false });
    const m = aroVgFamily.metrics(
      items,
      new Map([
        ['aro.vg_relation/0', [[0, 1]]],
        ['aro.vg_relation/1', [[1, 0]]],
      ]),
    );
    expect(m.headline.map((h) => [h.name, h.value])).toEqual([
      ['macro', 1], // "with" is symmetric: dropped
      ['micro', 0.5],
    ]);
    expect(aroOrderFamily.judge({ ...(items[0] as Item), correct: 0 }, [[0.5, 0.5, 0.5, 0.1, 0.1]])).toEqual({ prediction: 0, correct: true });
  });
});
