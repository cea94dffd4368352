import { z } from 'zod';
import { PerceiveError } from '../../core/errors.js';
import type { LoadedImage } from '../../core/image.js';
import type { Item } from '../../core/item.js';
import { probeExtra, type ProbeSettings } from '../../core/probe-features.js';
import { defineArm } from '../arm-definition.js';
import type { Arm, ArmOutput } from '../arm.js';
import type { ContrastiveEncoder } from '../capabilities.js';
import { probeFields } from '../probe-spec.js';

/**
 * `probe` (on a contrastive model): records each image's frozen embedding for the linear probe the
 * report fits (src/analysis/probe.ts), asking whether the class a benchmark tests (What'sUp's
 * preposition…) is linearly readable from the image embedding alone, without text.
 * `embedding: image_embeds` is the normalised projected embedding zero-shot matching uses;
 * `pooled` is the vision tower's pooled output before the projection (post_layernorm of the class
 * token of `last_hidden_state`), where the encoder provides it (`encodePooledImages`).
 * Its score matrix is a zero placeholder until the report replaces it with held-out probabilities.
 */
export class ProbeArm implements Arm {
  readonly prompt = undefined;
  readonly params: ProbeSettings;

  constructor(
    readonly model: string,
    private readonly encoder: ContrastiveEncoder,
    settings: ProbeSettings,
    readonly id: string,
  ) {
    this.params = settings;
  }

  get modelHash(): string {
    return this.encoder.modelHash;
  }

  private encode(images: LoadedImage[]): Promise<Float32Array[]> {
    if (this.params.embedding === 'image_embeds') return this.encoder.encodeImages(images);
    if (!this.encoder.encodePooledImages) {
      throw new PerceiveError(
        'arm-not-applicable',
        `model ${this.model} gives no pooled vision output (embedding: pooled needs a CLIP vision tower with last_hidden_state)`,
        {
          hint: 'use embedding: image_embeds',
        },
      );
    }
    return this.encoder.encodePooledImages(images);
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const embeddings = await this.encode(images);
    return { scores: images.map(() => item.options.map(() => 0)), extra: probeExtra(embeddings, this.params) };
  }
}

export const ProbeArmSchema = z.strictObject({
  arm: z.literal('probe'),
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
  label: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .optional(),
  /** Which frozen embedding the probe reads. */
  embedding: z.enum(['image_embeds', 'pooled']).default('image_embeds'),
  ...probeFields,
});

/** `arm: probe`: the linear probe on a contrastive model's image embedding (result id `probe.<embedding>`). */
export const PROBE_ARM = defineArm({
  arm: 'probe',
  schema: ProbeArmSchema,
  needs: 'contrastive',
  id: (spec) => spec.label ?? `probe.${spec.embedding}`,
  create: (spec, encoder, id) => new ProbeArm(spec.model, encoder, { embedding: spec.embedding, folds: spec.folds, l2: spec.l2, seed: spec.seed }, id),
});
