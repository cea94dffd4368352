import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalMetrics } from '../../src/cli/metrics.js';

/**
 * Our ports against the authors' own code. `fixtures/authors-code-crosscheck.json` holds annotation
 * rows written for this test in the authors' formats (What'sUp Controlled A/B with multi-word object
 * names and incomplete sets, COCO/VG-QA one and two objects, hard-positives data/ + swapped_data/
 * rows), scores drawn from {0.1, 0.2, 0.3} (so ties are everywhere), and the figures the authors' own
 * functions printed on those scores (run once with numpy, outside this repository):
 * whatsup_vlms@7c1f255 `evaluate_scores`, CLIP-Embeds@1c73a50 `eval` / `eval_4` / `eval_COCO_VG`,
 * hard_positives@33addaa `run_eval.py`. Every figure must match to 1e-9.
 */

interface WhatsUpCase {
  file: string;
  rows: unknown[];
  scores: number[][];
  whatsup_vlms: { printed: string; records: Array<{ Preposition: string; Accuracy: number; Count: number }> };
  clip_embeds?: string;
  clip_embeds_2way?: string;
  clip_embeds_4way?: string;
}
interface Fixture {
  whatsup: Record<string, WhatsUpCase>;
  hard_positives: {
    data: unknown[];
    swapped: unknown[];
    scores: number[][];
    authors: { orig_acc: number; mod_acc: number; avg_diff: number; printed_counts: number[] };
  };
}

let tmp: string;
let fx: Fixture;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'crosscheck-'));
  fx = JSON.parse(await readFile(fileURLToPath(new URL('fixtures/authors-code-crosscheck.json', import.meta.url)), 'utf8')) as Fixture;
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** `Name: 12.5` lines (eval_clip.py's evaluation_results.txt) → {Name: 12.5}. */
function parseLines(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.trim().split('\n')) {
    const at = line.lastIndexOf(': ');
    out[line.slice(0, at)] = Number(line.slice(at + 2));
  }
  return out;
}

async function ours(subset: string, c: WhatsUpCase, convention: string) {
  const dir = path.join(tmp, subset);
  await mkdir(dir, { recursive: true });
  const annotations = path.join(dir, c.file);
  await writeFile(annotations, JSON.stringify(c.rows));
  const scores = path.join(dir, 'scores.jsonl');
  await writeFile(scores, c.scores.map((s, i) => JSON.stringify({ id: i, scores: [s] })).join('\n'));
  const r = await externalMetrics({ benchmark: `whatsup.${subset}`, annotations, scores, convention });
  expect(r.loadFailures).toEqual([]);
  expect(r.scoreProblems).toEqual([]);
  expect(r.scored).toBe(c.rows.length);
  return r;
}

type Count = { accuracy: number | null };
type PerType = { label: string; individual?: Count; pair?: Count; accuracy?: number | null };

describe("ports agree with the authors' code on the same scores", () => {
  for (const subset of ['controlled_a', 'controlled_b', 'coco_qa_one', 'coco_qa_two', 'vg_qa_one', 'vg_qa_two']) {
    it(`whatsup.${subset}: whatsup_vlms`, async () => {
      const c = fx.whatsup[subset]!;
      const r = await ours(subset, c, 'whatsup_vlms');
      const printed = c.whatsup_vlms.printed
        .trim()
        .split('\n')
        .map((l) => Number(l.split(': ').at(-1)));
      const h = (n: string) => 100 * (r.metrics.headline.find((x) => x.name === n)?.value ?? NaN);
      const mine = subset.startsWith('controlled') ? [h('individual'), h('pair'), h('set')] : [h('individual')];
      expect(mine.length).toBe(printed.length);
      mine.forEach((v, i) => expect(v).toBeCloseTo(printed[i]!, 9));
      const per = (r.metrics.details as { perPreposition: Array<{ preposition: string; accuracy: number; count: number }> }).perPreposition;
      expect(per.map((p) => [p.preposition, p.count])).toEqual(c.whatsup_vlms.records.map((x) => [x.Preposition, x.Count]));
      per.forEach((p, i) => expect(p.accuracy).toBeCloseTo(c.whatsup_vlms.records[i]!.Accuracy, 12));
    });

    const conventions = subset.startsWith('controlled') ? ['clip_embeds_2way', 'clip_embeds_4way'] : ['clip_embeds'];
    for (const convention of conventions) {
      it(`whatsup.${subset}: ${convention}`, async () => {
        const c = fx.whatsup[subset]!;
        const r = await ours(subset, c, convention);
        const theirs = parseLines(c[convention as 'clip_embeds']!);
        const mine: Record<string, number> = {};
        const h = (n: string) => 100 * (r.metrics.headline.find((x) => x.name === n)?.value ?? NaN);
        mine['Individual accuracy'] = h('individual');
        const perType = (r.metrics.details as { perType: PerType[] }).perType;
        if (subset.startsWith('controlled')) {
          mine['Pair accuracy'] = h('pair');
          mine['Set accuracy'] = h('set');
          for (const t of perType) {
            mine[`${t.label} Individual accuracy`] = 100 * (t.individual?.accuracy ?? NaN);
            mine[`${t.label} Pair accuracy`] = 100 * (t.pair?.accuracy ?? NaN);
          }
        } else {
          for (const t of perType) mine[`${t.label} Individual accuracy`] = 100 * (t.accuracy ?? NaN);
        }
        expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
        for (const k of Object.keys(theirs)) expect(mine[k]).toBeCloseTo(theirs[k]!, 9);
      });
    }
  }

  it('hard_positives.replace_rel: run_eval.py', async () => {
    const hp = fx.hard_positives;
    const root = path.join(tmp, 'hp');
    await mkdir(path.join(root, 'data'), { recursive: true });
    await mkdir(path.join(root, 'swapped_data'), { recursive: true });
    await writeFile(path.join(root, 'data/vl_checklist_relations.json'), JSON.stringify(hp.data));
    await writeFile(path.join(root, 'swapped_data/vl_checklist_relations.json'), JSON.stringify(hp.swapped));
    const scores = path.join(root, 'scores.jsonl');
    await writeFile(scores, hp.scores.map((s, i) => JSON.stringify({ id: String(i), scores: [s] })).join('\n'));
    const r = await externalMetrics({
      benchmark: 'hard_positives.replace_rel',
      annotations: path.join(root, 'data/vl_checklist_relations.json'),
      scores,
      dataDir: root,
    });
    expect(r.scored).toBe(hp.scores.length);
    const d = r.metrics.details as { modified: Count; counts: Record<string, number>; avgDiff: number };
    expect(r.metrics.headline[0]!.value).toBeCloseTo(hp.authors.orig_acc, 12);
    expect(d.modified.accuracy).toBeCloseTo(hp.authors.mod_acc, 12);
    expect(d.avgDiff).toBeCloseTo(hp.authors.avg_diff, 12);
    // run_eval.py prints: (c, c'') > c' ; c > c' > c'' ; c'' > c' > c ; c' > (c, c'') ; ties
    expect([
      d.counts.bothPositivesAboveNegative,
      d.counts.originalAboveNegativeAbovePositive,
      d.counts.positiveAboveNegativeAboveOriginal,
      d.counts.negativeAboveBoth,
      d.counts.ties,
    ]).toEqual(hp.authors.printed_counts);
  });
});
