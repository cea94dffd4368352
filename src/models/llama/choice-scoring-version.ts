/**
 * Version of how `choiceLogprobs` scores (shared prefix into the prompt, grammar route, the repeat
 * that evaluates the last token alone). Arms put it in their params, so a change here is a new task
 * hash and never mixes with stored results of the old method.
 */
export const CHOICE_SCORING_VERSION = 1;
