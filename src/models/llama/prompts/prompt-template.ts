/**
 * A prompt template: an id and a version recorded with every result, so a change to the text
 * is a new version and never silently mixes with earlier results.
 */
export interface PromptTemplate<Vars> {
  readonly id: string;
  readonly version: number;
  render(vars: Vars): RenderedPrompt;
}

/**
 * A rendered prompt. `text` contains one IMAGE_PLACEHOLDER per image, in order; the llama runner
 * replaces each with the server's media marker. `answer`, when present, is the text whose
 * probability is scored after `text` (VQAScore's "Yes").
 */
export interface RenderedPrompt {
  text: string;
  answer?: string;
}

export const IMAGE_PLACEHOLDER = '<image>';

export function promptRef(template: { id: string; version: number }): string {
  return `${template.id}@v${template.version}`;
}
