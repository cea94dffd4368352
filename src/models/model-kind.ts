import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Environment } from '../core/environment.js';
import type { CapabilitySet, CapabilityTypes } from './capabilities.js';

/**
 * What a kind needs installed on this host before its models start (llama-server binaries), by
 * kind. Found (or built) once per process by the kind itself; opaque to everything else.
 */
export type HostTools = ReadonlyMap<string, unknown>;

/** A started model: the capabilities its arms are built on, how many bundles it serves at once. */
export interface StartedModel<N extends CapabilitySet = CapabilitySet> {
  capabilities: CapabilityTypes[N];
  /** Bundles served at once: llama-server's slots, an encoder's batch size. */
  slots: number;
  close(): Promise<void>;
}

export interface ModelStartContext {
  env: Environment;
  tools: HostTools;
  /** Where a kind may write its own logs (llama-server's). */
  logDir: string;
  /** The run's (or worker's) log: events such as a model server restart go here. */
  log?: Logger | undefined;
  /** Which of the spec's `instances` this is (0-based) and how many start, when more than one does. */
  instance?: { index: number; count: number } | undefined;
}

/** A line while a kind sets up its tools: `note` stays on the console, `progress` is rewritten, `done` ends it. */
export type SetupProgress = (line: string, stage: 'note' | 'progress' | 'done') => void;

/**
 * A model kind: one folder under src/models/ and one entry in src/models/registry.ts. The config
 * schema, the manifest, the planner and the worker find kinds here, never by name checks.
 */
export interface ModelKind<S extends z.ZodObject = z.ZodObject> {
  /** The config's `models.<name>.kind`. */
  readonly kind: string;
  readonly description: string;
  /** The config member (`kind` literal first); validated with the rest of the config. */
  readonly schema: S;
  /** Which capability set its runtime provides; arms needing it may run on it. */
  readonly provides: CapabilitySet;
  /** The spec with every path resolved (paths in a config are relative to its folder). */
  resolvePaths(spec: z.output<S>, resolve: (p: string) => string): z.output<S>;
  /** The files that identify the model, as the manifest lists them. */
  files(spec: z.output<S>): string[];
  /** The model's content hash without starting it (task hashes include it). */
  hash(spec: z.output<S>, env: Environment): Promise<string>;
  /** Bundles one started model serves at once. */
  slots(spec: z.output<S>): number;
  /**
   * How many started models (llama-server processes) one worker runs for this spec, each serving
   * `slots` bundles at once and each bundle on one of them; 1 when absent (llama: `servers`).
   */
  instances?(spec: z.output<S>, env: Environment): number;
  /** What the manifest's models[] entry adds for this model on this host (the onnxruntime provider it resolves to). */
  describe?(spec: z.output<S>): Record<string, unknown>;
  /** The kind's host tools if present (no build). */
  findTools?(env: Environment): unknown;
  /** Build or find the host tools (e.g. `perceive setup` for llama-server). */
  setupTools?(env: Environment, progress: SetupProgress): Promise<unknown>;
  /** What the manifest records of the tools (e.g. `llama_cpp: {tag, build_info…}`). */
  describeTools?(tools: unknown): Record<string, unknown>;
  start(name: string, spec: z.output<S>, context: ModelStartContext): Promise<StartedModel>;
}

/** Keeps a kind's spec type while checking it against the contract. */
export function defineModelKind<S extends z.ZodObject>(kind: ModelKind<S>): ModelKind<S> {
  return kind;
}
