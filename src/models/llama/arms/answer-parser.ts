/**
 * The rule-based parser of `vlm.generate`: maps a free answer to one option, or says it cannot.
 * Its id and version are recorded with every sample; any change to the rules is a new version.
 *
 * Rules, in order (the first that decides wins):
 * 1. The answer is only a letter, optionally in parentheses or followed by `.`, `)` or `:`
 *    ("B", "(b)", "b."): that option.
 * 2. The answer starts with such a letter followed by text ("(b) Closed", "B. Closed"): that option,
 *    unless the text names a different option exactly (a contradiction: unparseable).
 * 3. "The answer is …" / "Answer: …": the rest is parsed again with rules 1–2 and 4–5.
 * 4. Yes/no, when the options are exactly yes and no: a leading "yes"/"no" word decides.
 * 5. The option texts found in the answer as whole words (case-insensitive): exactly one option,
 *    or one whose match contains every other match ("left" inside "to the left of"), decides.
 * Anything else ("I cannot tell", both options named, an empty answer) is unparseable: it is
 * counted and reported, never dropped and never counted right.
 */
export const ANSWER_PARSER = { id: 'rule-parser', version: 1 } as const;

export interface ParsedAnswer {
  /** Index of the option, or null when the answer is unparseable. */
  option: number | null;
  /** Which rule decided (`letter`, `letter+text`, `yes-no`, `option-text`), or why it failed. */
  rule: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

const LETTER_ONLY = /^\(?([a-z])\)?[.):]?$/i;
const LETTER_LEAD = /^(?:\(([a-z])\)|([a-z])[.):])\s+(.+)$/i;
const ANSWER_IS = /(?:the\s+(?:correct\s+)?answer\s+is|answer\s*:|option\s*:?)\s*(.+)$/i;

function letterIndex(letter: string, options: string[]): number | null {
  const k = letter.toLowerCase().charCodeAt(0) - 97;
  return k >= 0 && k < options.length ? k : null;
}

function stripEnd(text: string): string {
  return text.replace(/[\s.!?,;:'"]+$/g, '').replace(/^[\s'"]+/g, '');
}

function byOptionText(answer: string, options: string[]): ParsedAnswer {
  const a = ` ${normalise(answer)
    .replace(/[.,!?;:'"()]/g, ' ')
    .replace(/\s+/g, ' ')} `;
  const found: number[] = [];
  options.forEach((o, k) => {
    const t = normalise(o)
      .replace(/[.,!?;:'"()]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (t.length > 0 && new RegExp(`\\s${escapeRegExp(t)}\\s`).test(a)) found.push(k);
  });
  if (found.length === 1) return { option: found[0]!, rule: 'option-text' };
  if (found.length > 1) {
    const norm = (k: number) => normalise(options[k]!);
    const containing = found.filter((k) => found.every((j) => j === k || norm(k).includes(norm(j))));
    if (containing.length === 1) return { option: containing[0]!, rule: 'option-text' };
    return { option: null, rule: 'unparseable:several-options' };
  }
  return { option: null, rule: 'unparseable:no-option' };
}

function yesNo(answer: string, options: string[]): ParsedAnswer | undefined {
  const norm = options.map((o) => stripEnd(normalise(o)));
  const yes = norm.indexOf('yes');
  const no = norm.indexOf('no');
  if (options.length !== 2 || yes < 0 || no < 0) return undefined;
  const first = normalise(answer).match(/^[^a-z]*([a-z]+)/)?.[1];
  if (first === 'yes') return { option: yes, rule: 'yes-no' };
  if (first === 'no') return { option: no, rule: 'yes-no' };
  return undefined;
}

function parseInner(answer: string, options: string[], allowAnswerIs: boolean): ParsedAnswer {
  const text = stripEnd(answer.trim());
  if (text.length === 0) return { option: null, rule: 'unparseable:empty' };
  const only = text.match(LETTER_ONLY);
  if (only) {
    const k = letterIndex(only[1]!, options);
    // a one-letter answer that is also an option's text ("a") is read as the letter
    if (k !== null) return { option: k, rule: 'letter' };
  }
  const lead = text.match(LETTER_LEAD);
  if (lead) {
    const k = letterIndex((lead[1] ?? lead[2])!, options);
    if (k !== null) {
      const rest = byOptionText(lead[3]!, options);
      if (rest.option !== null && rest.option !== k && stripEnd(normalise(lead[3]!)) === stripEnd(normalise(options[rest.option]!))) {
        return { option: null, rule: 'unparseable:letter-contradicts-text' };
      }
      return { option: k, rule: 'letter+text' };
    }
  }
  if (allowAnswerIs) {
    const is = text.match(ANSWER_IS);
    if (is) {
      const inner = parseInner(is[1]!, options, false);
      if (inner.option !== null) return inner;
    }
  }
  const yn = yesNo(text, options);
  if (yn) return yn;
  const byText = byOptionText(text, options);
  if (byText.option !== null) return byText;
  const nestedYesNo = allowAnswerIs ? text.match(ANSWER_IS) : null;
  if (nestedYesNo) {
    const y = yesNo(nestedYesNo[1]!, options);
    if (y) return y;
  }
  return byText;
}

/** Maps a free answer to an option index (see the rules above). */
export function parseAnswer(answer: string, options: string[]): ParsedAnswer {
  return parseInner(answer, options, true);
}
