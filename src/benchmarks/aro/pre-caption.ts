/**
 * `pre_caption` of the ARO code, ported (not copied) from
 * `mertyg/vision-language-models-are-bows@81fdd20dc5b6f434aa5a4a971717bc80d1cedb0d:dataset_zoo/retrieval.py`
 * (`pre_caption`, itself from BLIP): lower-case; each of `. ! " ( ) * # : ; ~` becomes a space; runs of 2+
 * whitespace characters become one space; strip a trailing newline, then spaces at both ends; keep the
 * first `maxWords` space-separated words. The Order sets call it with max_words = 30 on the original
 * caption and on each perturbed one.
 */
export function preCaption(caption: string, maxWords = 50): string {
  let c = caption.toLowerCase().replace(/[.!"()*#:;~]/g, ' ');
  // Python's \s (str pattern) is Unicode whitespace; JS \s is close enough for captions.
  c = c.replace(/\s{2,}/g, ' ');
  c = c.replace(/\n+$/, '');
  c = c.replace(/^ +| +$/g, '');
  const words = c.split(' ');
  if (words.length > maxWords) c = words.slice(0, maxWords).join(' ');
  return c;
}
