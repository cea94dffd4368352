import { describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { endOfTurnFrom } from '../../src/models/llama/end-of-turn.js';

describe('endOfTurnFrom: the end-of-turn token as llama.cpp decides it', () => {
  const tokens = ['<unk>', '<s>', '</s>', '<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  it('takes tokenizer.ggml.eot_token_id first', () => {
    expect(endOfTurnFrom({ tokens, eotTokenId: 3, eosTokenId: 2 }, 'm.gguf')).toEqual({ id: 3, text: '<|endoftext|>', source: 'eot_token_id' });
  });
  it("else the first of llama.cpp's end-of-turn texts in its list order (<|im_end|> before <|endoftext|>)", () => {
    expect(endOfTurnFrom({ tokens, eosTokenId: 2 }, 'm.gguf')).toEqual({ id: 5, text: '<|im_end|>', source: 'token text' });
    expect(endOfTurnFrom({ tokens: ['<pad>', '<eos>', '<end_of_turn>'], eosTokenId: 1 }, 'g.gguf')).toEqual({
      id: 2,
      text: '<end_of_turn>',
      source: 'token text',
    });
  });
  it('an eot id outside the vocabulary is ignored, as llama.cpp does', () => {
    expect(endOfTurnFrom({ tokens, eotTokenId: 99, eosTokenId: 2 }, 'm.gguf').id).toBe(5);
  });
  it('else the EOS (LLaVA-1.5: </s>)', () => {
    expect(endOfTurnFrom({ tokens: ['<unk>', '<s>', '</s>', '▁Yes'], eosTokenId: 2 }, 'l.gguf')).toEqual({ id: 2, text: '</s>', source: 'eos_token_id' });
  });
  it('none: a no-end-of-turn error naming the file', () => {
    let error: unknown;
    try {
      endOfTurnFrom({ tokens: ['a', 'b'] }, '/models/x.gguf');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PerceiveError);
    expect((error as PerceiveError).code).toBe('no-end-of-turn');
    expect((error as PerceiveError).message).toMatch(/^\/models\/x\.gguf: the model has no end-of-turn token/);
  });
});
