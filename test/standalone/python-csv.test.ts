import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePythonCsv } from '../../src/benchmarks/shared/python-csv.js';
import { readCsvTable } from '../../src/benchmarks/shared/csv-table.js';

const cells = (text: string, reader: 'python-csv' | 'pandas' = 'python-csv'): string[][] => parsePythonCsv(text, reader).map((r) => r.cells);

// Every expected value below is what Python 3.11 prints for
// `list(csv.reader(io.StringIO(text, newline=None)))` (newline=None = `open(path, 'r')`'s universal newlines).
describe('parsePythonCsv reads as Python csv.reader over open(path, "r")', () => {
  it('reads CLIP-Embeds Questions-llava.csv line 216 as Python does', () => {
    const line216 = '"Is the hand pointing at ""0"" or ""80"""?,(a) ""0"" (b) ""80"",(a)\n';
    expect(cells(line216)).toEqual([['Is the hand pointing at "0" or "80"?', '(a) ""0"" (b) ""80""', '(a)']]);
  });
  it('appends text after a closing quote', () => {
    expect(cells('"abc"def,x\n')).toEqual([['abcdef', 'x']]);
  });
  it('keeps a quote inside an unquoted field literal, and a space before a quote makes it unquoted', () => {
    expect(cells('a"b"c,d\n')).toEqual([['a"b"c', 'd']]);
    expect(cells('a, "b",c\n')).toEqual([['a', ' "b"', 'c']]);
  });
  it('ends the last record without a final newline, and an unterminated quote at the end of the file', () => {
    expect(cells('a,b\nc,d')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(cells('a,"bc')).toEqual([['a', 'bc']]);
    expect(cells('x,"a""')).toEqual([['x', 'a"']]);
  });
  it('keeps a BOM in the first cell (open() with utf-8 keeps U+FEFF); pandas drops it', () => {
    expect(cells('\ufeffa,b\nc,d\n')).toEqual([
      ['\ufeffa', 'b'],
      ['c', 'd'],
    ]);
    expect(cells('\ufeffa,b\nc,d\n', 'pandas')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });
  it('reads CRLF and CR line ends, and a quoted CRLF as \\n', () => {
    expect(cells('a,b\r\nc,d\r\n')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(cells('a,b\rc,d\r')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(cells('"a\r\nb",c\n')).toEqual([['a\nb', 'c']]);
  });
  it('gives a blank line as a record with no cells (pandas skips it), and empty fields', () => {
    expect(cells('a\n\nb\n')).toEqual([['a'], [], ['b']]);
    expect(cells('a\n\nb\n', 'pandas')).toEqual([['a'], ['b']]);
    expect(cells(',,\n')).toEqual([['', '', '']]);
  });
  it('numbers records by the line they start on', () => {
    expect(parsePythonCsv('h\n"a\nb"\nc\n').map((r) => r.line)).toEqual([1, 2, 4]);
  });
});

// pandas 1.5.3 `pd.read_csv(io.StringIO(text))` gives these (header + values).
describe("parsePythonCsv('pandas') reads as pandas.read_csv", () => {
  it('reads line 216, text after a closing quote and a quote in an unquoted field as csv.reader does', () => {
    const text = 'Index,Q,O,A\n216,"Is the hand pointing at ""0"" or ""80"""?,(a) ""0"" (b) ""80"",(a)\n';
    expect(cells(text, 'pandas')[1]).toEqual(['216', 'Is the hand pointing at "0" or "80"?', '(a) ""0"" (b) ""80""', '(a)']);
    expect(cells('Index,Q\n1,"abc"def\n2,a"b"c\n', 'pandas')).toEqual([
      ['Index', 'Q'],
      ['1', 'abcdef'],
      ['2', 'a"b"c'],
    ]);
  });
  it('skips blank and whitespace-only lines, keeps a quoted CRLF, reads CR line ends', () => {
    expect(cells('Index,Q\n1,a\n\n  \n2,b\n', 'pandas')).toEqual([
      ['Index', 'Q'],
      ['1', 'a'],
      ['2', 'b'],
    ]);
    expect(cells('Index,Q\r\n1,a\r\n2,"x\r\ny"\r\n', 'pandas')).toEqual([
      ['Index', 'Q'],
      ['1', 'a'],
      ['2', 'x\r\ny'],
    ]);
    expect(cells('Index,Q\r1,a\r2,b', 'pandas')).toEqual([
      ['Index', 'Q'],
      ['1', 'a'],
      ['2', 'b'],
    ]);
  });
  it('refuses a quote left open at the end of the file ("EOF inside string")', () => {
    expect(() => parsePythonCsv('Index,Q\n1,"ab', 'pandas')).toThrow(/EOF inside string starting at line 2/);
  });
});

describe('readCsvTable', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'python-csv-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });
  it('reads the Questions-llava.csv rows 215-216 with the header, rows and lines', async () => {
    const file = path.join(tmp, 'Questions-llava.csv');
    await writeFile(
      file,
      'lndex,Question,Options,Correct Answer\r\n' +
        '215,"Is the hand pointing at ""0"" or ""80"""?,(a) ""0"" (b) ""80"",(a)\r\n' +
        '216,"Is the hand pointing at ""0"" or ""80"""?,(a) ""0"" (b) ""80"",(b)',
    );
    const t = await readCsvTable(file, 'questions file');
    expect(t.header).toEqual(['lndex', 'Question', 'Options', 'Correct Answer']);
    expect(t.records).toEqual([
      { row: 0, line: 2, cells: ['215', 'Is the hand pointing at "0" or "80"?', '(a) ""0"" (b) ""80""', '(a)'] },
      { row: 1, line: 3, cells: ['216', 'Is the hand pointing at "0" or "80"?', '(a) ""0"" (b) ""80""', '(b)'] },
    ]);
  });
  it('refuses invalid UTF-8 naming the file, as Python open() does', async () => {
    const file = path.join(tmp, 'latin1.csv');
    await writeFile(file, Buffer.from([0x61, 0x2c, 0xe9, 0x0a]));
    await expect(readCsvTable(file, 'questions file')).rejects.toThrow(/latin1\.csv is not valid UTF-8/);
  });
});
