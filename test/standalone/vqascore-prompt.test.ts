import { describe, expect, it } from 'vitest';
import { promptRef } from '../../src/models/llama/prompts/prompt-template.js';
import { vqascoreLlava } from '../../src/models/llama/prompts/vqascore-llava.js';

describe('VQAScore prompt (t2v_metrics llava_model.py format_question)', () => {
  it('renders the t2v_metrics string byte for byte', () => {
    // SYSTEM_MSG + " USER: " + "<image>" + "\n" + question + " ASSISTANT: " (t2v_metrics@74c7208^).
    const expected =
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: <image>\n" +
      'Does this figure show "A mug to the left of a plate"? Please answer yes or no. ASSISTANT: ';
    const r = vqascoreLlava.render({ caption: 'A mug to the left of a plate' });
    expect(Buffer.from(r.text, 'utf8').equals(Buffer.from(expected, 'utf8'))).toBe(true);
    expect(r.answer).toBe('Yes');
    expect(r.text.endsWith('ASSISTANT: ')).toBe(true);
  });

  it('inserts captions verbatim, including "$" patterns and quotes', () => {
    const r = vqascoreLlava.render({ caption: 'a "$&" sign' });
    expect(r.text).toContain('Does this figure show "a "$&" sign"? Please answer yes or no.');
  });

  it('has an id and a version', () => {
    expect(promptRef(vqascoreLlava)).toBe('t2v_metrics.vqascore.llava-v1.5@v1');
  });
});
