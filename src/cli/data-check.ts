import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { BenchmarkFamily, BenchmarkSubset, PublishedFile } from '../benchmarks/benchmark-family.js';
import { isReadableFile } from '../core/data-path.js';
import type { DataQuirk } from '../benchmarks/shared/data-quirk.js';
import { allFamilies } from '../benchmarks/registry.js';
import { BenchmarkSpecSchema } from '../config/experiment.js';
import { errorMessage } from '../core/errors.js';
import { loadImage } from '../core/image.js';

/**
 * `perceive data check DIR`: for every registered subset, whether its files are present under DIR
 * (laid out as the README's "Data layout" says), their sha256 against the published checksums the
 * project records (or "unknown"), how many items load, and which rows fail (missing images,
 * invalid rows). `--decode` also decodes every image (slow) to find unreadable ones.
 */

export type ChecksumStatus = 'ok' | 'mismatch' | 'unknown' | 'absent';

export interface FileCheck {
  path: string;
  /** `annotations`, an extra file's role, or `optional <role>` (the subset is scored without it). */
  role: string;
  /** For an optional file: what it adds. */
  adds?: string;
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
  /** Counts of what the files have that the authors' code scores as it is (duplicate rows, caption = negative, …). */
  quirks?: DataQuirk[];
  /** Files beside the annotations only some figures need, as the loader read them. */
  companions?: Array<{ role: string; file: string; status: string; reason: string | null }>;
  error: string | null;
}

export interface DataCheckReport {
  dir: string;
  subsets: SubsetCheck[];
  /** Published files with a recorded checksum that no subset lists (so every recorded checksum is checked). */
  otherFiles: FileCheck[];
}

/** A subset is present when its required files are (optional files only add figures). */
export function subsetPresent(s: SubsetCheck): boolean {
  return s.files.every((f) => f.present || f.role.startsWith('optional '));
}

/** `a + b` file lists made relative to the data root. */
function relativeFiles(root: string, files: string): string {
  return files
    .split(' + ')
    .map((f) => path.relative(root, f))
    .join(' + ');
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function checkFile(root: string, rel: string, published: readonly PublishedFile[], role: string, adds?: string): Promise<FileCheck> {
  const full = path.join(root, rel);
  const known = published.find((p) => p.path === rel);
  const expected = known?.sha256 ?? null;
  const base = { path: rel, role, ...(adds === undefined ? {} : { adds }), expected, origin: known?.origin ?? null };
  if (!(await isReadableFile(full))) return { ...base, present: false, sha256: null, status: 'absent' };
  const sha = await sha256File(full);
  const status: ChecksumStatus = expected === null ? 'unknown' : sha === expected ? 'ok' : 'mismatch';
  return { ...base, present: true, sha256: sha, status };
}

async function checkSubset(root: string, family: BenchmarkFamily, subset: BenchmarkSubset, decode: boolean): Promise<SubsetCheck> {
  /** A file, or its other published name (`alternativeFiles`) when the first is absent. */
  const check = async (rel: string, role: string, adds?: string): Promise<FileCheck> => {
    const first = await checkFile(root, rel, family.publishedFiles, role, adds);
    const other = subset.alternativeFiles?.[rel];
    if (first.present || other === undefined) return first;
    const second = await checkFile(root, other, family.publishedFiles, role, adds);
    return second.present ? second : first;
  };
  const files = [await check(subset.annotations, 'annotations')];
  const extra: Record<string, string> = {};
  for (const [role, rel] of Object.entries(subset.extraFiles ?? {})) {
    const f = await check(rel, role);
    files.push(f);
    extra[role] = f.path;
  }
  const optional = Object.entries(subset.optionalFiles ?? {});
  for (const [role, o] of optional) files.push(await check(o.path, `optional ${role}`, o.adds));
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
  if (files.some((f) => !f.present && !f.role.startsWith('optional '))) return out;
  try {
    const spec = BenchmarkSpecSchema.parse({
      name: subset.name,
      format: family.format,
      annotations: path.join(root, (files[0] as FileCheck).path),
      data_dir: path.join(root, subset.dataDir),
      subset: subset.subset,
      extra_files: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, path.join(root, v)])),
    });
    const { items, failures, companions, quirks } = await family.load(spec);
    out.quirks = (quirks ?? []).filter((q) => q.count > 0).map((q) => ({ ...q, file: relativeFiles(root, q.file) }));
    out.companions = (companions ?? []).map((c) => ({ role: c.role, file: path.relative(root, c.file), status: c.status, reason: c.reason }));
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
  const otherFiles: FileCheck[] = [];
  for (const family of allFamilies()) {
    for (const subset of family.subsets) subsets.push(await checkSubset(root, family, subset, options.decode === true));
    const listed = new Set(subsets.flatMap((s) => s.files.map((f) => f.path)));
    for (const p of family.publishedFiles) {
      if (p.sha256 !== null && !listed.has(p.path)) otherFiles.push(await checkFile(root, p.path, family.publishedFiles, 'published'));
    }
  }
  return { dir: root, subsets, otherFiles };
}

export function formatDataCheck(report: DataCheckReport): string {
  const lines = [`data dir ${report.dir}`];
  const fileLine = (f: FileCheck): string => {
    const sum =
      f.status === 'absent'
        ? 'absent'
        : f.status === 'ok'
          ? 'sha256 ok'
          : f.status === 'mismatch'
            ? `sha256 MISMATCH (${f.sha256}, published ${f.expected})`
            : `sha256 ${f.sha256} (published checksum unknown)`;
    const optional = f.role.startsWith('optional ') ? ` [${f.role}${f.present ? '' : `: would add ${f.adds ?? '?'}`}]` : '';
    return `  ${f.path}: ${sum}${optional}`;
  };
  for (const s of report.subsets) {
    lines.push(`${s.benchmark} (${s.format}): ${subsetPresent(s) ? 'present' : 'absent'} — ${s.description}`);
    for (const f of s.files) lines.push(fileLine(f));
    for (const c of s.companions ?? []) {
      if (c.status === 'unreadable')
        lines.push(`  ${c.file}: present but not read (${c.reason}); figures that need its ${c.role} are missing, the others are computed`);
    }
    if (s.error !== null) lines.push(`  error: ${s.error}`);
    if (s.items !== null) {
      lines.push(
        `  items ${s.items}, failed rows ${s.failedRows} (missing images ${s.missingImages}, invalid rows ${s.invalidRows})` +
          (s.unreadableImages === null ? '' : `, unreadable images ${s.unreadableImages}`),
      );
    }
    for (const q of s.quirks ?? [])
      lines.push(`  quirk: ${q.file}: ${q.count} row(s): ${q.quirk} (rows ${q.rows.join(', ')}${q.count > q.rows.length ? ', …' : ''})`);
    for (const f of s.sampleFailures) lines.push(`  ${f}`);
  }
  if (report.otherFiles.length > 0) lines.push('other published files:', ...report.otherFiles.map(fileLine));
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
