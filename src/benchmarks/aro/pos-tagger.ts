/**
 * Word tokens with the two word classes the ARO perturbations need, from compromise (npm, rule-based).
 *
 * The ARO code (`mertyg/vision-language-models-are-bows@81fdd20:dataset_zoo/perturbations.py`,
 * `TextShuffler`) runs spaCy `en_core_web_sm` and reads the fine-grained Penn tag `token.tag_`:
 * NOUN = `NN, NNS, NNP, NNPS`; ADJ = `JJ, JJR, JJS`; everything else (determiners, verbs incl. VBG,
 * numbers CD, pronouns PRP, possessive `'s` POS, punctuation) is OTHER.
 *
 * Mapping from compromise's tags (per term):
 * - NOUN: the term has `Noun` and none of `Pronoun`, `Value` (compromise puts numbers under Value: CD),
 *   `Gerund`; the word of a possessive (`man's` → `man` NOUN + `'s` OTHER, as spaCy splits it).
 * - ADJ: otherwise, the term has `Adjective` (compromise's `Comparative`/`Superlative` are under it: JJR/JJS).
 * - OTHER: everything else.
 * - One heuristic: compromise tags the participle in "a man riding a horse" / "dogs playing" as
 *   `Noun|Singular`, where spaCy says VBG. A word ending in "ing" that compromise calls a singular noun
 *   and that directly follows a NOUN is taken as OTHER.
 *
 * Tokens follow spaCy's English tokenizer on caption text: punctuation around a word is split off, one
 * token per character (`big,` → `big` `,`), and clitics are split (`man's` → `man` `'s`,
 * `isn't` → `is` `n't`).
 *
 * Limits: compromise is a rule-based tagger and spaCy's is statistical; they disagree on some words
 * (participles used as adjectives — "parked car", colour words used as nouns, noun-noun compounds,
 * rare words). The perturbations built here therefore follow the authors' recipe but not their exact
 * strings; for the exact published options, use a pre-built options file.
 */
import { createRequire } from 'node:module';
import type Compromise from 'compromise';

let compromise: typeof Compromise | undefined;

/**
 * compromise, loaded on first use: it takes most of a second to import, and only ARO's order
 * perturbations tag words (the report, `perceive metrics` and the other families never do).
 * Its CommonJS build is the same release (`compromise/three`) as its ES module.
 */
function nlp(text: string): ReturnType<typeof Compromise> {
  compromise ??= createRequire(import.meta.url)('compromise') as typeof Compromise;
  return compromise(text);
}

export type WordClass = 'NOUN' | 'ADJ' | 'OTHER';

export interface TaggedToken {
  text: string;
  cls: WordClass;
}

const CLITIC = /^(.+?)('s|'S|n't|N'T|'re|'ve|'ll|'d|'m|’s)$/;

function splitClitic(word: string): string[] {
  // "can't" → "ca" "n't" as spaCy does; "isn't" → "is" "n't"; "man's" → "man" "'s".
  const m = CLITIC.exec(word);
  if (m === null || m[1] === undefined || m[2] === undefined) return [word];
  return [m[1], m[2]];
}

function punctTokens(s: string): string[] {
  return [...s].filter((ch) => ch.trim() !== '');
}

interface CompromiseTerm {
  text: string;
  pre: string;
  post: string;
  tags: string[];
}

function classOf(tags: Set<string>): WordClass {
  if (tags.has('Noun') && !tags.has('Pronoun') && !tags.has('Value') && !tags.has('Gerund')) return 'NOUN';
  if (tags.has('Adjective')) return 'ADJ';
  return 'OTHER';
}

/** The last caption tagged: the two noun/adjective perturbations of a caption tag it once. */
let memo: { text: string; tokens: TaggedToken[] } | undefined;

/** spaCy-like tokens of `text`, each with NOUN / ADJ / OTHER. */
export function tagWords(text: string): TaggedToken[] {
  if (memo?.text === text) return memo.tokens.map((t) => ({ ...t }));
  const tokens = tagUncached(text);
  memo = { text, tokens };
  return tokens.map((t) => ({ ...t }));
}

function tagUncached(text: string): TaggedToken[] {
  const doc = nlp(text);
  // compromise's typings list fewer term options than it accepts (pre/post are real output fields).
  const jsonOptions = { terms: { normal: false, pre: true, post: true, tags: true, text: true } } as unknown as Parameters<typeof doc.json>[0];
  const sentences = doc.json(jsonOptions) as Array<{ terms: CompromiseTerm[] }>;
  const out: TaggedToken[] = [];
  for (const s of sentences) {
    for (const term of s.terms) {
      for (const p of punctTokens(term.pre)) out.push({ text: p, cls: 'OTHER' });
      if (term.text !== '') {
        const tags = new Set(term.tags);
        let cls = classOf(tags);
        const prev = out.at(-1);
        if (cls === 'NOUN' && /ing$/i.test(term.text) && tags.has('Singular') && prev?.cls === 'NOUN') cls = 'OTHER';
        const parts = splitClitic(term.text);
        out.push({ text: parts[0] as string, cls });
        for (const c of parts.slice(1)) out.push({ text: c, cls: 'OTHER' });
      }
      for (const p of punctTokens(term.post)) out.push({ text: p, cls: 'OTHER' });
    }
  }
  return out;
}

/**
 * `nltk.word_tokenize` on a caption, approximated: whitespace split, leading/trailing punctuation
 * split off one character at a time, clitics split (`'s`, `n't`, …), double quotes as their own tokens.
 */
export function wordTokenize(text: string): string[] {
  const out: string[] = [];
  for (const chunk of text.split(/\s+/)) {
    if (chunk === '') continue;
    const lead = /^[("'`[{]+/.exec(chunk)?.[0] ?? '';
    const rest = chunk.slice(lead.length);
    const trail = /[.,;:!?)"'\]}]+$/.exec(rest)?.[0] ?? '';
    const core = rest.slice(0, rest.length - trail.length);
    out.push(...[...lead]);
    if (core !== '') out.push(...splitClitic(core));
    out.push(...[...trail]);
  }
  return out;
}
