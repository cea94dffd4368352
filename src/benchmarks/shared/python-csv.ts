/**
 * CSV text read exactly as the authors' Python reads it. Two readers appear in their code:
 *
 * - `python-csv`: `csv.reader(open(path, 'r'))` (CLIP-Embeds `eval_MMVP`, MMVP `evaluate_vlm.py`).
 *   `open` without `newline=''` translates `\r\n` and `\r` to `\n` (universal newlines) and, with the
 *   default UTF-8 encoding (not `utf-8-sig`), keeps a BOM as U+FEFF at the start of the first cell.
 *   The reader is the excel dialect: `,` delimiter, `"` quote, doublequote, not strict, no escapechar,
 *   no skipinitialspace. A blank line is a record with no cells.
 * - `pandas`: `pandas.read_csv(path)` with its defaults (MMVP `evaluate_mllm.py`): the same quoting
 *   rules (its C tokenizer has the same states), but a BOM is dropped and blank (or spaces/tabs only)
 *   lines are skipped, a quoted `\r\n` is kept (no newline translation), and a quote still open at
 *   the end of the file refuses the file. Type conversion (`NA` → NaN, numbers) is left to the loader.
 *
 * The state machine follows CPython's `Modules/_csv.c` `parse_process_char` (states START_RECORD,
 * START_FIELD, IN_FIELD, IN_QUOTED_FIELD, QUOTE_IN_QUOTED_FIELD, EAT_CRNL): a quote is special only
 * at the start of a field; `""` inside quotes is one `"`; text after a closing quote is appended to
 * the field (`"a"b` → `ab`); a quote inside an unquoted field is literal (`a"b` → `a"b`); a quoted
 * field may span lines; a missing final newline ends the last record; an unterminated quoted field
 * at the end of the file ends its record (not strict). csv-parse (even with `relax_quotes`) reads
 * `"a ""0"""?` as `"a "0""?` where Python reads `a "0"?`, hence this small hand-written reader.
 */

export type CsvReaderKind = 'python-csv' | 'pandas';

export interface CsvTextRecord {
  /** 1-based line (after newline translation) where the record starts. */
  line: number;
  cells: string[];
}

/** A file the authors' reader refuses as a whole (pandas: a quote left open at the end of the file). */
export class PythonCsvError extends Error {}

type State = 'START_RECORD' | 'START_FIELD' | 'IN_FIELD' | 'IN_QUOTED_FIELD' | 'QUOTE_IN_QUOTED_FIELD' | 'EAT_CRNL';

/** Universal newlines, as Python's `open(path, 'r')`: `\r\n` and `\r` become `\n`. */
export function translateNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** Lines as Python's file iterator yields them: each keeps its `\n`, `\r\n` or `\r`; the last may lack one. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      lines.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** Parses CSV text as `reader` does (see the file comment). `text` is the decoded file content. */
export function parsePythonCsv(text: string, reader: CsvReaderKind = 'python-csv'): CsvTextRecord[] {
  // pandas reads the bytes itself: no newline translation, so a quoted `\r\n` stays `\r\n`.
  let body = reader === 'pandas' ? text : translateNewlines(text);
  if (reader === 'pandas' && body.charCodeAt(0) === 0xfeff) body = body.slice(1);
  const lines = splitLines(body);
  const records: CsvTextRecord[] = [];
  let state: State = 'START_RECORD';
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;

  const saveField = (): void => {
    fields.push(field);
    field = '';
  };
  const endRecord = (): void => {
    if (reader === 'pandas' && (fields.length === 0 || (fields.length === 1 && /^[ \t]*$/.test(fields[0] ?? '')))) {
      // read_csv(skip_blank_lines=True) drops empty and whitespace-only lines.
    } else {
      records.push({ line: recordLine, cells: fields });
    }
    fields = [];
  };

  for (let li = 0; li < lines.length; li++) {
    const line = lines[li] as string;
    if (state === 'START_RECORD') recordLine = li + 1;
    // Each character, then the end-of-line marker (CPython's EOL), exactly as Reader_iternext feeds them.
    for (let ci = 0; ci <= line.length; ci++) {
      const eol = ci === line.length;
      const c = eol ? '' : (line[ci] as string);
      const newline = c === '\n' || c === '\r';
      switch (state) {
        // biome-ignore lint/suspicious/noFallthroughSwitchClause: CPython's _csv.c falls through from START_RECORD into START_FIELD
        case 'START_RECORD':
          if (eol) {
            endRecord(); // an empty line: a record with no cells
            break;
          }
          if (newline) {
            state = 'EAT_CRNL';
            break;
          }
          state = 'START_FIELD';
        // falls through: a normal character starts the first field
        case 'START_FIELD':
          if (newline || eol) {
            saveField();
            state = eol ? 'START_RECORD' : 'EAT_CRNL';
            if (eol) endRecord();
          } else if (c === '"') state = 'IN_QUOTED_FIELD';
          else if (c === ',') saveField();
          else {
            field += c;
            state = 'IN_FIELD';
          }
          break;
        case 'IN_FIELD':
          if (newline || eol) {
            saveField();
            state = eol ? 'START_RECORD' : 'EAT_CRNL';
            if (eol) endRecord();
          } else if (c === ',') {
            saveField();
            state = 'START_FIELD';
          } else field += c;
          break;
        case 'IN_QUOTED_FIELD':
          if (eol) break;
          if (c === '"') state = 'QUOTE_IN_QUOTED_FIELD';
          else field += c;
          break;
        case 'QUOTE_IN_QUOTED_FIELD':
          if (c === '"') {
            field += c;
            state = 'IN_QUOTED_FIELD';
          } else if (c === ',') {
            saveField();
            state = 'START_FIELD';
          } else if (newline || eol) {
            saveField();
            state = eol ? 'START_RECORD' : 'EAT_CRNL';
            if (eol) endRecord();
          } else {
            field += c;
            state = 'IN_FIELD';
          }
          break;
        case 'EAT_CRNL':
          if (eol) {
            state = 'START_RECORD';
            // The record whose line ended here: START_FIELD/IN_FIELD/QUOTE_IN_QUOTED_FIELD saved its
            // last field on the newline; a blank line (START_RECORD then newline) has none.
            endRecord();
          }
          break;
      }
    }
  }
  // End of data inside a quoted field: csv.reader (not strict) ends the record there; pandas raises.
  if (state === 'IN_QUOTED_FIELD' && reader === 'pandas') {
    throw new PythonCsvError(`EOF inside string starting at line ${recordLine} (pandas.read_csv refuses the file: "C error: EOF inside string")`);
  }
  if (field !== '' || state === 'IN_QUOTED_FIELD') {
    saveField();
    endRecord();
  }
  return records;
}
