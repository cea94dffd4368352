import { describe, expect, it } from 'vitest';
import { ANSWER_PARSER, parseAnswer } from '../../src/models/llama/arms/answer-parser.js';

const OPEN_CLOSED = ['Open', 'Closed'];
const YES_NO = ['Yes', 'No'];
const UP_DOWN = ['Up', 'Down'];
const CAPTIONS = ['A mug to the left of a plate', 'A mug to the right of a plate'];

describe('the rule-based answer parser', () => {
  it('has an id and a version', () => {
    expect(ANSWER_PARSER).toEqual({ id: 'rule-parser', version: 1 });
  });

  // [answer, options, expected option (null = unparseable), rule]
  const table: Array<[string, string[], number | null, string]> = [
    ['B', OPEN_CLOSED, 1, 'letter'],
    ['b', OPEN_CLOSED, 1, 'letter'],
    ['(a)', OPEN_CLOSED, 0, 'letter'],
    ['A.', OPEN_CLOSED, 0, 'letter'],
    ['(b) Closed', OPEN_CLOSED, 1, 'letter+text'],
    ['B. Closed', OPEN_CLOSED, 1, 'letter+text'],
    ['(a) Closed', OPEN_CLOSED, null, 'unparseable:letter-contradicts-text'],
    ['The answer is yes.', YES_NO, 0, 'yes-no'],
    ['No, it is not.', YES_NO, 1, 'yes-no'],
    ['Yes', YES_NO, 0, 'yes-no'],
    ['The answer is (b).', OPEN_CLOSED, 1, 'letter'],
    ['Answer: A', OPEN_CLOSED, 0, 'letter'],
    ['The door is closed.', OPEN_CLOSED, 1, 'option-text'],
    ['The arrow is pointing up', UP_DOWN, 0, 'option-text'],
    ['A mug to the right of a plate.', CAPTIONS, 1, 'option-text'],
    ['I cannot tell', OPEN_CLOSED, null, 'unparseable:no-option'],
    ['I cannot tell', YES_NO, null, 'unparseable:no-option'],
    ['It could be open or closed.', OPEN_CLOSED, null, 'unparseable:several-options'],
    ['', OPEN_CLOSED, null, 'unparseable:empty'],
    ['E', OPEN_CLOSED, null, 'unparseable:no-option'],
    ['The answer is yes.', OPEN_CLOSED, null, 'unparseable:no-option'],
  ];

  it.each(table)('%j with options %j → %j (%s)', (answer, options, option, rule) => {
    expect(parseAnswer(answer, options)).toEqual({ option, rule });
  });
});
