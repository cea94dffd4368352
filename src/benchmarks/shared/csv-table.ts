/**
 * A CSV file read as its authors' Python reads it (`python-csv.ts`): decoded as strict UTF-8 (Python's
 * `open(path, 'r')` on a UTF-8 locale raises on invalid bytes, so does this), first record = header,
 * every data record with its 0-based row and 1-based line for error messages.
 */
import { readFile } from 'node:fs/promises';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { parsePythonCsv, type CsvReaderKind } from './python-csv.js';

export interface CsvRecord {
  /** 0-based index among the data records (the header is not counted). */
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

/** Reads a CSV file; an unreadable file, invalid UTF-8 or a file without a header throws a PerceiveError. */
export async function readCsvTable(file: string, what: string, reader: CsvReaderKind = 'python-csv'): Promise<CsvTable> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new PerceiveError('csv-unreadable', `Cannot read ${what} ${file}: ${errorMessage(error)}`, { cause: error });
  }
  let text: string;
  try {
    // ignoreBOM keeps U+FEFF in the text (Python's utf-8 codec keeps it); the pandas reader drops it.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new PerceiveError('csv-invalid', `${what} ${file} is not valid UTF-8 (Python's open() would fail on it too): ${errorMessage(error)}`, {
      cause: error,
    });
  }
  let parsed: ReturnType<typeof parsePythonCsv>;
  try {
    parsed = parsePythonCsv(text, reader);
  } catch (error) {
    throw new PerceiveError('csv-invalid', `${what} ${file} is not valid CSV: ${errorMessage(error)}`, { cause: error });
  }
  const first = parsed[0];
  if (first === undefined) throw new PerceiveError('csv-invalid', `${what} ${file} is empty (expected a header row)`);
  return {
    file,
    header: first.cells,
    records: parsed.slice(1).map((p, i) => ({ row: i, line: p.line, cells: p.cells })),
  };
}

/** `<file> row <r> (line <l>): field <name>: <message>`: the form every failure reason takes. */
export function rowReason(file: string, rec: Pick<CsvRecord, 'row' | 'line'>, field: string, message: string): string {
  return `${file} row ${rec.row} (line ${rec.line}): field ${field}: ${message}`;
}
