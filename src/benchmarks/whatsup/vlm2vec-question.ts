/**
 * The question Li, Koh & Du's VLM2Vec evaluation puts on the image side
 * (`<image> Represent the given image with the following question: {question}`), built per item as
 * `lst627/CLIP-Embeds@1c73a50a153ccc9d89e2eddabb69f8cc05f1a0be:VLM2Vec/eval_llava15.py` builds it
 * (functions `eval`, `eval_4`, `eval_COCO_VG`); ported, not copied. Stored in `item.meta.vlm2vec_question`.
 */
import { seededStream } from '../seeded-random.js';

/** object1, object2 as eval_llava15.py takes them from the file name (hyphens → spaces). */
export function controlledObjects(imagePath: string): { object1: string; object2: string } {
  const name = imagePath.split('/').at(-1) ?? '';
  const parts = name.split('_');
  const object1 = (parts[0] ?? '').replace(/-/g, ' ');
  const last = parts.at(-1) ?? '';
  const object2 = last.slice(0, Math.max(0, last.length - 5)).replace(/-/g, ' ');
  return { object1, object2 };
}

/** `eval` (2-way): the question depends on the gold preposition word. */
export function controlledTwoWayQuestion(imagePath: string, goldPreposition: string): string {
  const { object1, object2 } = controlledObjects(imagePath);
  if (goldPreposition === 'left' || goldPreposition === 'right') {
    return `Is the ${object1} to the left of or to the right of the ${object2}?`;
  }
  if (goldPreposition === 'on' || goldPreposition === 'under') {
    return `Is the ${object1} at the bottom of the ${object2} or at the top of the ${object2}?`;
  }
  return `Is the ${object1} in the back of the ${object2} or in the front of the ${object2}?`;
}

/** `eval_4` (4-way): `prompt_a` for dataset a4, `prompt_b` for b4. */
export function controlledFourWayQuestion(imagePath: string, variant: 'A' | 'B'): string {
  const { object1, object2 } = controlledObjects(imagePath);
  return variant === 'A'
    ? `Is the ${object1} to the left of, to the right of, on, or under the ${object2}?`
    : `Is the ${object1} to the left of, to the right of, in front of, or behind the ${object2}?`;
}

const QA_OPPOSITE: Record<string, string> = {
  left: 'right',
  right: 'left',
  above: 'below',
  below: 'above',
  top: 'bottom',
  bottom: 'top',
  front: 'behind',
  behind: 'front',
};

/**
 * `eval_COCO_VG`: part1 = the caption without its first 13 characters ("A photo of a "); part2 from
 * "on the " (one-object files), from "above "/"below "/"to the " (COCO two-object), from "to the "
 * (VG two-object); then with p = random.random(), p < 0.5 replaces every occurrence of the gold word
 * in part2 by its opposite, else in part1 (Python `str.replace`: substrings, all occurrences).
 * Their p is unseeded; ours is drawn from a stream keyed by (seed, row), and the flipped half is
 * returned. The authors choose the part2 rule with `"one" in annotation_file` / `"coco" in
 * annotation_file` on the whole path; here it is the subset (one/two object, COCO/VG).
 */
export function qaQuestion(
  caption: string,
  gold: string,
  kind: { source: 'coco' | 'vg'; objects: 'one' | 'two' },
  seed: number,
  row: number,
): { question: string; flipped: 'part1' | 'part2' } | { reason: string } {
  const part1 = caption.slice('A photo of a '.length);
  let marker: string;
  if (kind.objects === 'one') marker = 'on the ';
  else if (kind.source === 'coco') marker = caption.includes('above') ? 'above ' : caption.includes('below') ? 'below ' : 'to the ';
  else marker = 'to the ';
  const at = caption.indexOf(marker);
  if (at < 0) return { reason: `caption ${JSON.stringify(caption)} has no ${JSON.stringify(marker)} (eval_llava15.py would raise ValueError)` };
  const part2 = caption.slice(at);
  const opposite = QA_OPPOSITE[gold];
  if (opposite === undefined) return { reason: `no opposite for ${JSON.stringify(gold)}` };
  const p = seededStream(`vlm2vec-question|${seed}|${row}`)();
  if (p < 0.5) return { question: `Is the ${part1} or ${part2.split(gold).join(opposite)}?`, flipped: 'part2' };
  return { question: `Is the ${part1.split(gold).join(opposite)} or ${part2}?`, flipped: 'part1' };
}
