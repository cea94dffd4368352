import fs from 'node:fs';
import path from 'node:path';
import { type CheckVerdict, verdict } from '../core/check-verdict.js';
import { formatBytes } from '../core/disk-space.js';

/**
 * The hashes the latest earlier run under an output folder recorded in its manifest.json: each
 * model's hash keyed by its kind and files, each benchmark's annotation file hash keyed by its
 * path. `perceive doctor` compares today's files with them ("matches previous run").
 */
export interface PreviousHashes {
  runId: string;
  models: Map<string, string>;
  annotations: Map<string, string>;
}

/** The key a model's hash is found under: its kind and files, as the manifest lists them. */
export function modelKey(kind: string, files: readonly string[]): string {
  return `${kind}\n${files.map((f) => path.resolve(f)).join('\n')}`;
}

interface ManifestHashes {
  run_id?: unknown;
  created_at?: unknown;
  models?: Array<{ kind?: unknown; files?: unknown; hash?: unknown }>;
  datasets?: Array<{ annotations?: unknown; annotations_sha256?: unknown }>;
}

/** The latest run's hashes under `outputDir` (by `created_at`), or undefined when there is none. */
export function readPreviousHashes(outputDir: string): PreviousHashes | undefined {
  let latest: { at: string; id: string; m: ManifestHashes } | undefined;
  let entries: string[];
  try {
    entries = fs.readdirSync(outputDir);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    let m: ManifestHashes;
    try {
      m = JSON.parse(fs.readFileSync(path.join(outputDir, entry, 'manifest.json'), 'utf8')) as ManifestHashes;
    } catch {
      continue; // not a run folder (cache.sqlite, a half-written run)
    }
    const at = typeof m.created_at === 'string' ? m.created_at : '';
    if (!latest || at > latest.at) latest = { at, id: typeof m.run_id === 'string' ? m.run_id : entry, m };
  }
  if (!latest) return undefined;
  const models = new Map<string, string>();
  for (const model of latest.m.models ?? []) {
    if (typeof model.kind === 'string' && Array.isArray(model.files) && typeof model.hash === 'string')
      models.set(modelKey(model.kind, model.files.map(String)), model.hash);
  }
  const annotations = new Map<string, string>();
  for (const d of latest.m.datasets ?? []) {
    if (typeof d.annotations === 'string' && typeof d.annotations_sha256 === 'string') annotations.set(path.resolve(d.annotations), d.annotations_sha256);
  }
  return { runId: latest.id, models, annotations };
}

/**
 * A file's (or model's) checksum status: not yet hashed (too large to hash now, never hashed
 * before: the run hashes it once), hashed with nothing to compare, matching the previous run, or
 * changed since it (a warning: its tasks are computed again).
 */
export function checksumVerdict(args: {
  subject: string;
  /** Which file, when the subject does not say (a benchmark's annotation file). */
  label?: string;
  /** The sha256 now; undefined when not hashed (too large, no memo). */
  hash: string | undefined;
  /** Bytes not yet hashed (when `hash` is undefined). */
  unhashedBytes?: number;
  previous: { runId: string; hash: string | undefined } | undefined;
}): CheckVerdict {
  const { subject, hash, previous } = args;
  const file = args.label ? `${args.label} ` : '';
  if (hash === undefined) {
    return verdict(
      'ok',
      subject,
      `${file}present, not yet hashed (${formatBytes(args.unhashedBytes ?? 0)}; the run hashes it once${previous?.hash ? `, then compares with run ${previous.runId}` : ''})`,
      'add --hash to hash it now',
    );
  }
  const short = hash.slice(0, 12);
  if (previous?.hash === undefined) return verdict('ok', subject, `${file}present, sha256 ${short} (no earlier run used it)`);
  if (previous.hash === hash) return verdict('ok', subject, `${file}present, sha256 ${short} matches previous run ${previous.runId}`);
  return verdict(
    'warning',
    subject,
    `${file}sha256 ${short} differs from previous run ${previous.runId} (${previous.hash.slice(0, 12)}): its tasks will be computed again`,
    'expected if you replaced the file on purpose; otherwise restore the file that run used',
  );
}
