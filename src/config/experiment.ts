import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { PerceiveError } from '../errors.js';

/**
 * The experiment config (YAML). Paths are relative to the config file's folder.
 * Every field is validated here; a bad field fails with the file and the field's path.
 */

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only');

export const BenchmarkSpecSchema = z.strictObject({
  /** Name used in ids and the report, e.g. `whatsup.controlled_a`. */
  name: Name,
  /** Which loader reads the files (one benchmark family per format; see src/benchmarks/registry.ts). */
  format: z.enum(['whatsup-controlled', 'whatsup-qa', 'hard-positives', 'mmvp', 'mmvp-vlm', 'mmvp-clip', 'aro-vg', 'aro-order', 'sugarcrepe', 'winoground', 'sugarcrepe-pp']),
  /** The authors' annotation file (e.g. controlled_images_dataset.json). */
  annotations: z.string().min(1),
  /** Folder the annotation's image paths are resolved against; no image path may leave it. */
  data_dir: z.string().min(1),
  /** Subset name passed to the loader (controlled_a, controlled_b, coco_qa_one, replace_rel, …). */
  subset: z.string().min(1),
  /**
   * Which evaluation code scores it (e.g. whatsup_vlms, clip_embeds_2way, clip_embeds_4way);
   * default: the family's first convention. Checked against the family when it loads.
   */
  convention: z.string().min(1).optional(),
  /** Further files a family reads, by role (e.g. hard positives: `swapped`); paths like `annotations`. */
  extra_files: z.record(z.string(), z.string().min(1)).default({}),
  /** Word-order test: add the correct caption with its words shuffled (seeded) as a further option. */
  word_order: z.boolean().default(false),
  /** Seed of whatever a loader draws (word-order shuffles, the VLM2Vec question's random flip). */
  seed: z.number().int().nonnegative().default(0),
  /** Take only the first N items (quick checks). */
  limit: z.number().int().positive().optional(),
});

export const LlamaModelSchema = z.strictObject({
  kind: z.literal('llama'),
  /** Text GGUF (e.g. llava-v1.5-7b Q4_K_M). */
  model: z.string().min(1),
  /** Vision projector GGUF (mmproj). */
  mmproj: z.string().min(1),
  context_size: z.number().int().positive().default(4096),
  threads: z.number().int().positive().optional(),
  /** llama-server `-np`: parallel slots (each gets context_size / slots tokens of context). */
  slots: z.number().int().positive().default(1),
  /** Per-request timeout; a request past it is retried on a restarted server (real 7B: ~1 min per new image on CPU). */
  request_timeout_ms: z.number().int().positive().default(600_000),
  /** Extra llama-server arguments, as a list (never a shell string). */
  server_args: z.array(z.string()).default([]),
});

export const ClipModelSchema = z.strictObject({
  kind: z.literal('clip'),
  /** Folder in the Hugging Face ONNX layout (config.json, tokenizer.json, onnx/…). */
  path: z.string().min(1),
  threads: z.number().int().positive().optional(),
  batch_size: z.number().int().positive().default(8),
});

export const ModelSpecSchema = z.discriminatedUnion('kind', [LlamaModelSchema, ClipModelSchema]);

/** Fields every llama-server arm of issue 5 shares. */
const vlmArmFields = {
  model: Name,
  /** The arm's id in the results (default: the arm name); lets one run hold several settings. */
  label: Name.optional(),
  /** `llava-v1` (LLaVA's llava_v1 conversation) or `model` (the GGUF's own chat template). */
  prompt_format: z.enum(['llava-v1', 'model']).default('llava-v1'),
  /** Pad the image to a square with the CLIP mean colour (MMVP's own evaluation does not). */
  pad_to_square: z.boolean().default(false),
};

/** Fields of the arms scored by option letters. */
const letterArmFields = {
  /** `mmvp`: `(a) X (b) Y` as MMVP's authors write options; `lmms-eval`: `A. X\nB. Y`. */
  option_style: z.enum(['mmvp', 'lmms-eval']).default('mmvp'),
};

/** A user-written VLM2Vec image-side prompt: `<image>` once, `{question}` where the question goes. */
const Vlm2VecVariantSchema = z.strictObject({
  name: Name,
  template: z.string().refine((t) => t.split('<image>').length === 2, 'the template must contain <image> exactly once'),
  version: z.number().int().positive().default(1),
});

export const ArmSpecSchema = z.discriminatedUnion('arm', [
  z.strictObject({ arm: z.literal('clip'), model: Name }),
  z.strictObject({
    arm: z.literal('vlm.vqascore'),
    model: Name,
    /** LLaVA-1.5's expand2square with the CLIP mean colour (t2v_metrics: image_aspect_ratio 'pad'). */
    pad_to_square: z.boolean().default(true),
  }),
  z.strictObject({ arm: z.literal('vlm.mcq'), ...vlmArmFields, ...letterArmFields }),
  z.strictObject({ arm: z.literal('vlm.two-image'), ...vlmArmFields, ...letterArmFields }),
  z.strictObject({
    arm: z.literal('vlm.contrast'),
    ...vlmArmFields,
    ...letterArmFields,
    /** score = ℓ(image) + λ·(ℓ(image) − ℓ(text alone)); 0 reproduces vlm.mcq. */
    lambda: z.number().nonnegative().default(1),
  }),
  z.strictObject({
    arm: z.literal('vlm.generate'),
    ...vlmArmFields,
    /** Greedy answer length bound, in tokens. */
    max_tokens: z.number().int().positive().max(1024).default(32),
  }),
  z.strictObject({
    arm: z.literal('vlm2vec.question'),
    model: Name,
    label: Name.optional(),
    pad_to_square: z.boolean().default(false),
    /** A user prompt variant instead of VLM2Vec's own; its template holds `{question}`. */
    prompt_variant: Vlm2VecVariantSchema.refine((v) => v.template.includes('{question}'), 'the template of a vlm2vec.question variant must contain {question}').optional(),
  }),
  z.strictObject({
    arm: z.literal('vlm2vec.plain'),
    model: Name,
    label: Name.optional(),
    pad_to_square: z.boolean().default(false),
    /** A user prompt variant instead of `<image> Represent the given image.`; no `{question}`. */
    prompt_variant: Vlm2VecVariantSchema.refine((v) => !v.template.includes('{question}'), 'the template of a vlm2vec.plain variant must not contain {question}').optional(),
  }),
]);

/**
 * The id an arm's results carry (samples.jsonl `arm`, the report's columns): `label` when given,
 * else the arm name, with a vlm2vec prompt variant's name (`vlm2vec.question.<name>`). Ids are
 * unique within a config, so one run can hold several settings of one arm (λ values, variants).
 */
export function armSpecId(spec: ArmSpec): string {
  if ('label' in spec && spec.label) return spec.label;
  if ((spec.arm === 'vlm2vec.question' || spec.arm === 'vlm2vec.plain') && spec.prompt_variant) return `${spec.arm}.${spec.prompt_variant.name}`;
  return spec.arm;
}

export const QueueSettingsSchema = z.strictObject({
  /** BullMQ key prefix: runs with different prefixes never see each other's queues. */
  prefix: z.string().regex(/^[A-Za-z0-9._-]+$/).default('perceive'),
  /** Tries per bundle for transient errors (server died, timeout), with exponential backoff. */
  attempts: z.number().int().positive().default(3),
  backoff_ms: z.number().int().nonnegative().default(10_000),
  /** A worker's lock on a bundle; renewed every half period while it works, so calls may take minutes. */
  lock_ms: z.number().int().positive().default(300_000),
  /** How often stalled bundles (a worker that died) are looked for and put back. */
  stalled_check_ms: z.number().int().positive().default(60_000),
  /**
   * Consecutive bundles of one model are merged into one job until it holds at least this many
   * tasks (images stay together, in plan order): a job costs a few milliseconds of queue work, which
   * a one-task bundle (one arm, one image) would pay per task. 1 = one job per image (or pair).
   */
  min_bundle_tasks: z.number().int().positive().default(8),
});

export const ExperimentConfigSchema = z.strictObject({
  name: Name,
  seed: z.number().int().nonnegative().default(0),
  /** Where results/<run-id>/ goes. */
  output: z.string().min(1).default('results'),
  benchmarks: z.array(BenchmarkSpecSchema).min(1),
  models: z.record(Name, ModelSpecSchema),
  arms: z.array(ArmSpecSchema).min(1),
  /** Which arm the per-item comparison is against (the contrastive baseline). */
  baseline: z.string().default('clip'),
  /** How bundles are queued and retried (README "Overnight and multi-host runs"). */
  queue: QueueSettingsSchema.prefault({}),
});

export type ExperimentConfig = z.infer<typeof ExperimentConfigSchema>;
export type BenchmarkSpec = z.infer<typeof BenchmarkSpecSchema>;
export type ModelSpec = z.infer<typeof ModelSpecSchema>;
export type ArmSpec = z.infer<typeof ArmSpecSchema>;
export type QueueSettings = z.infer<typeof QueueSettingsSchema>;

export interface LoadedConfig {
  file: string;
  config: ExperimentConfig;
  /** The raw text, recorded in the manifest. */
  text: string;
}

function describeIssue(file: string, issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  return `${file}: field ${where}: ${issue.message}`;
}

/** Resolves every path field against the config file's folder. */
function resolvePaths(config: ExperimentConfig, baseDir: string): ExperimentConfig {
  const r = (p: string): string => path.resolve(baseDir, p);
  return {
    ...config,
    output: r(config.output),
    benchmarks: config.benchmarks.map((b) => ({
      ...b,
      annotations: r(b.annotations),
      data_dir: r(b.data_dir),
      extra_files: Object.fromEntries(Object.entries(b.extra_files).map(([k, v]) => [k, r(v)])),
    })),
    models: Object.fromEntries(
      Object.entries(config.models).map(([name, m]) => [
        name,
        m.kind === 'llama' ? { ...m, model: r(m.model), mmproj: r(m.mmproj) } : { ...m, path: r(m.path) },
      ]),
    ),
  };
}

export function parseExperimentConfig(text: string, file: string): ExperimentConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new PerceiveError('bad-config', `${file}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = ExperimentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => describeIssue(file, i));
    throw new PerceiveError('bad-config', lines.join('\n'));
  }
  const config = parsed.data;
  const issues: string[] = [];
  config.arms.forEach((arm, i) => {
    const model = config.models[arm.model];
    if (!model) issues.push(`${file}: field arms.${i}.model: no model named "${arm.model}" under models`);
    else if (arm.arm === 'clip' && model.kind !== 'clip')
      issues.push(`${file}: field arms.${i}.model: arm clip needs a model of kind clip, "${arm.model}" is ${model.kind}`);
    else if (arm.arm !== 'clip' && model.kind !== 'llama')
      issues.push(`${file}: field arms.${i}.model: arm ${arm.arm} needs a model of kind llama, "${arm.model}" is ${model.kind}`);
  });
  const armIds = config.arms.map(armSpecId);
  armIds.forEach((id, i) => {
    if (armIds.indexOf(id) !== i) issues.push(`${file}: field arms.${i}: duplicate arm id "${id}" (give one of them a label)`);
  });
  const names = config.benchmarks.map((b) => b.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) issues.push(`${file}: field benchmarks.${i}.name: duplicate name "${n}"`);
  });
  if (issues.length > 0) throw new PerceiveError('bad-config', issues.join('\n'));
  return resolvePaths(config, path.dirname(path.resolve(file)));
}

export function loadExperimentConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new PerceiveError('bad-config', `cannot read config ${file}: ${(error as Error).message}`);
  }
  return { file: path.resolve(file), config: parseExperimentConfig(text, file), text };
}
