/**
 * Reading the MMVP family's CSV files the way Python's `csv.reader` / `pandas.read_csv` read them:
 * comma-separated, `"` quoting with `""` escapes (Questions-clip.csv has `"key ""Z"" on the keyboard"`),
 * first record = header. Every record keeps its 1-based line number for error messages.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { PerceiveError, errorMessage } from '../../core/errors.js';

export interface CsvRecord {
  /** 0-based index among the data rows (the header is not counted). */
  row: number;
  /** 1-based line in the file where the record starts. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  file: string;
  header: string[];
  records: CsvRecord[];
}

/** Reads a CSV file; an unreadable or unparseable file (or one without a header) throws a PerceiveError. */
export async function readCsvTable(file: string, what: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PerceiveError('csv-unreadable', `Cannot read ${what} ${file}: ${errorMessage(error)}`, { cause: error });
  }
  let parsed: Array<{ record: string[]; info: { lines: number } }>;
  try {
    parsed = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: false,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (error) {
    throw new PerceiveError('csv-invalid', `${what} ${file} is not valid CSV: ${errorMessage(error)}`, { cause: error });
  }
  const first = parsed[0];
  if (first === undefined) throw new PerceiveError('csv-invalid', `${what} ${file} is empty (expected a header row)`);
  // csv-parse's info.lines is the line the record ends on; a record spans one line in these files
  // unless a quoted cell holds a newline, which none of the published files has.
  return {
    file,
    header: first.record,
    records: parsed.slice(1).map((p, i) => ({ row: i, line: p.info.lines, cells: p.record })),
  };
}

/** `<file> row <r> (line <l>): field <name>: <message>`: the form every failure reason takes. */
export function rowReason(file: string, rec: Pick<CsvRecord, 'row' | 'line'>, field: string, message: string): string {
  return `${file} row ${rec.row} (line ${rec.line}): field ${field}: ${message}`;
}
