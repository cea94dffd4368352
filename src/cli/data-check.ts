import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { BenchmarkFamily, BenchmarkSubset, PublishedFile } from '../benchmarks/benchmark-family.js';
import { isReadableFile } from '../benchmarks/data-path.js';
import { allFamilies } from '../benchmarks/registry.js';
import { BenchmarkSpecSchema } from '../config/experiment.js';
import { errorMessage } from '../errors.js';
import { loadImage } from '../items/image.js';

/**
 * `perceive data check DIR`: for every registered subset, whether its files are present under DIR
 * (laid out as the README's "Data layout" says), their sha256 against the published checksums the
 * project records (or "unknown"), how many items load, and which rows fail (missing images,
 * invalid rows). `--decode` also decodes every image (slow) to find unreadable ones.
 */

export type ChecksumStatus = 'ok' | 'mismatch' | 'unknown' | 'absent';

export interface FileCheck {
  path: string;
  present: boolean;
  sha256: string | null;
  expected: string | null;
  status: ChecksumStatus;
  origin: string | null;
}

export interface SubsetCheck {
  benchmark: string;
  format: string;
  description: string;
  files: FileCheck[];
  /** null when the annotation file is absent or unreadable. */
  items: number | null;
  failedRows: number;
  missingImages: number;
  invalidRows: number;
  unreadableImages: number | null;
  /** The first failures, with file, row and field. */
  sampleFailures: string[];
  error: string | null;
}

export interface DataCheckReport {
  dir: string;
  subsets: SubsetCheck[];
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function checkFile(root: string, rel: string, published: readonly PublishedFile[]): Promise<FileCheck> {
  const full = path.join(root, rel);
  const known = published.find((p) => p.path === rel);
  const expected = known?.sha256 ?? null;
  if (!(await isReadableFile(full))) {
    return { path: rel, present: false, sha256: null, expected, status: 'absent', origin: known?.origin ?? null };
  }
  const sha = await sha256File(full);
  const status: ChecksumStatus = expected === null ? 'unknown' : sha === expected ? 'ok' : 'mismatch';
  return { path: rel, present: true, sha256: sha, expected, status, origin: known?.origin ?? null };
}

async function checkSubset(root: string, family: BenchmarkFamily, subset: BenchmarkSubset, decode: boolean): Promise<SubsetCheck> {
  const check = async (rel: string): Promise<FileCheck> => {
    const first = await checkFile(root, rel, family.publishedFiles);
    const other = subset.alternativeFiles?.[rel];
    if (first.present || other === undefined) return first;
    const second = await checkFile(root, other, family.publishedFiles);
    return second.present ? second : first;
  };
  const files = [await check(subset.annotations)];
  const extra: Record<string, string> = {};
  for (const [role, rel] of Object.entries(subset.extraFiles ?? {})) {
    const f = await check(rel);
    files.push(f);
    extra[role] = f.path;
  }
  const out: SubsetCheck = {
    benchmark: subset.name,
    format: family.format,
    description: subset.description,
    files,
    items: null,
    failedRows: 0,
    missingImages: 0,
    invalidRows: 0,
    unreadableImages: null,
    sampleFailures: [],
    error: null,
  };
  if (files.some((f) => !f.present)) return out;
  try {
    const spec = BenchmarkSpecSchema.parse({
      name: subset.name,
      format: family.format,
      annotations: path.join(root, (files[0] as FileCheck).path),
      data_dir: path.join(root, subset.dataDir),
      subset: subset.subset,
      extra_files: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, path.join(root, v)])),
    });
    const { items, failures } = await family.load(spec);
    out.items = items.length;
    out.failedRows = failures.length;
    out.missingImages = failures.filter((f) => /not found or unreadable/.test(f.reason)).length;
    out.invalidRows = failures.length - out.missingImages;
    out.sampleFailures = failures.slice(0, 5).map((f) => f.reason);
    if (decode) {
      let bad = 0;
      const seen = new Set<string>();
      for (const item of items) {
        for (const image of item.images) {
          if (seen.has(image)) continue;
          seen.add(image);
          try {
            await loadImage(image);
          } catch (error) {
            bad += 1;
            if (out.sampleFailures.length < 10) out.sampleFailures.push(`${item.source.file} row ${item.source.row}: ${errorMessage(error)}`);
          }
        }
      }
      out.unreadableImages = bad;
    }
  } catch (error) {
    out.error = errorMessage(error);
  }
  return out;
}

export async function checkDataDir(dir: string, options: { decode?: boolean } = {}): Promise<DataCheckReport> {
  const root = path.resolve(dir);
  const subsets: SubsetCheck[] = [];
  for (const family of allFamilies()) {
    for (const subset of family.subsets) subsets.push(await checkSubset(root, family, subset, options.decode === true));
  }
  return { dir: root, subsets };
}

export function formatDataCheck(report: DataCheckReport): string {
  const lines = [`data dir ${report.dir}`];
  for (const s of report.subsets) {
    const present = s.files.every((f) => f.present);
    lines.push(`${s.benchmark} (${s.format}): ${present ? 'present' : 'absent'} — ${s.description}`);
    for (const f of s.files) {
      const sum =
        f.status === 'absent'
          ? 'absent'
          : f.status === 'ok'
            ? 'sha256 ok'
            : f.status === 'mismatch'
              ? `sha256 MISMATCH (${f.sha256}, published ${f.expected})`
              : `sha256 ${f.sha256} (published checksum unknown)`;
      lines.push(`  ${f.path}: ${sum}`);
    }
    if (s.error !== null) lines.push(`  error: ${s.error}`);
    if (s.items !== null) {
      lines.push(
        `  items ${s.items}, failed rows ${s.failedRows} (missing images ${s.missingImages}, invalid rows ${s.invalidRows})` +
          (s.unreadableImages === null ? '' : `, unreadable images ${s.unreadableImages}`),
      );
    }
    for (const f of s.sampleFailures) lines.push(`  ${f}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerDataCheck(program: Command): void {
  const data = program.command('data').description('benchmark data helpers');
  data
    .command('check')
    .description('which benchmark files are present under DIR, item counts, missing/unreadable images, sha256 against the published files')
    .argument('<dir>', 'data root laid out as the README says (whatsup_vlms/, hard_positives/, …)')
    .option('--decode', 'also decode every image (slow) to find unreadable ones')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, opts: { decode?: boolean; json?: boolean }) => {
      const report = await checkDataDir(dir, { decode: opts.decode === true });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatDataCheck(report));
    });
}
