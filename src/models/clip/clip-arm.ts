import { z } from 'zod';
import { defineArm } from '../arm-definition.js';
import type { Item } from '../../core/item.js';
import type { LoadedImage } from '../../core/image.js';
import type { ContrastiveEncoder } from '../capabilities.js';
import type { Arm, ArmOutput } from '../arm.js';
import { ItemPairs } from '../../core/item-pairs.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * `clip` (contrastive matching, on any kind with the contrastive set: CLIP, SigLIP): cosine of the
 * L2-normalised image and caption embeddings; SigLIP's sigmoid score is recorded beside it. The captions are the raw
 * benchmark texts (no template), as in whatsup_vlms and CLIP-Embeds' eval_clip.py.
 * Each unique image and caption is encoded once per model, in batches (prepare).
 */
export class ClipArm implements Arm {
  readonly prompt = { id: 'clip.raw-caption', version: 1 };
  private readonly imageEmbeddings = new Map<string, Promise<Float32Array>>();
  private readonly textEmbeddings = new Map<string, Promise<Float32Array>>();
  /** Pairs of single-image items (item-pairs.ts), for the erroneous-agreement view. */
  private readonly pairs = new ItemPairs();
  /** item id → the embedding of its pair partner's image, found in the prepare() of its bundle. */
  private readonly partnerEmbeddings = new Map<string, Promise<Float32Array>>();

  constructor(
    readonly model: string,
    private readonly encoder: ContrastiveEncoder,
    /** The result id: `clip`, or the config's label (a second contrastive model, e.g. SigLIP beside CLIP). */
    readonly id = 'clip',
  ) {}

  get modelHash(): string {
    return this.encoder.modelHash;
  }

  async prepare(items: Item[], images: (file: string) => Promise<LoadedImage>): Promise<void> {
    this.pairs.add(items);
    const texts = [...new Set(items.flatMap((i) => i.options))].filter((t) => !this.textEmbeddings.has(t));
    if (texts.length > 0) {
      const encoded = this.encoder.encodeTexts(texts);
      texts.forEach((t, k) =>
        this.textEmbeddings.set(
          t,
          encoded.then((e) => e[k]!),
        ),
      );
      // A failed batch is forgotten, so each text is retried alone and only a bad one fails.
      await encoded.catch(() => texts.forEach((t) => this.textEmbeddings.delete(t)));
    }
    // Images that fail to load are skipped here; the item fails later with the image's reason.
    const loaded: LoadedImage[] = [];
    for (const file of new Set(items.flatMap((i) => i.images))) {
      try {
        const image = await images(file);
        if (!this.imageEmbeddings.has(image.sha256)) loaded.push(image);
      } catch {
        /* reported per item */
      }
    }
    const unique = [...new Map(loaded.map((i) => [i.sha256, i])).values()];
    if (unique.length > 0) {
      const encoded = this.encoder.encodeImages(unique);
      unique.forEach((img, k) =>
        this.imageEmbeddings.set(
          img.sha256,
          encoded.then((e) => e[k]!),
        ),
      );
      await encoded.catch(() => unique.forEach((img) => this.imageEmbeddings.delete(img.sha256)));
    }
    // Partners' images through this bundle's own loader (bundles may be prepared concurrently,
    // so no loader is kept beyond this call). A broken partner image leaves no pair cosine.
    for (const item of items) {
      const found = this.pairs.of(item);
      if (!found || item.images.length !== 1) continue;
      const embedding = images(found.partner.images[0]!).then((img) => this.image(img));
      embedding.catch(() => this.partnerEmbeddings.delete(item.id));
      this.partnerEmbeddings.set(item.id, embedding);
      await embedding.catch(() => undefined);
    }
  }

  private image(image: LoadedImage): Promise<Float32Array> {
    let e = this.imageEmbeddings.get(image.sha256);
    if (!e) {
      e = this.encoder.encodeImages([image]).then((r) => r[0]!);
      this.imageEmbeddings.set(image.sha256, e);
    }
    return e;
  }

  private text(text: string): Promise<Float32Array> {
    let e = this.textEmbeddings.get(text);
    if (!e) {
      e = this.encoder.encodeTexts([text]).then((r) => r[0]!);
      this.textEmbeddings.set(text, e);
    }
    return e;
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const imageEmbeds = await Promise.all(images.map((i) => this.image(i)));
    const textEmbeds = await Promise.all(item.options.map((t) => this.text(t)));
    // The CLIP image–image cosine of the item's image pair (erroneous agreements, Li et al. v1):
    // the item's own two images, or its image and its partner item's.
    const extra: Record<string, unknown> = {};
    if (imageEmbeds.length === 2) {
      extra.image_pair_cosine = dot(imageEmbeds[0]!, imageEmbeds[1]!);
    } else {
      const partner = this.pairs.of(item)?.partner;
      const other = partner ? this.partnerEmbeddings.get(item.id) : undefined;
      if (partner && other) {
        try {
          extra.image_pair_cosine = dot(imageEmbeds[0]!, await other);
          extra.pair_partner = partner.id;
        } catch {
          // the partner's image is broken: that item fails on its own; this one has no pair cosine
        }
      }
    }
    const scores = imageEmbeds.map((v) => textEmbeds.map((t) => dot(v, t)));
    // SigLIP's sigmoid score beside the raw cosine (same order; the cosine is what metrics read).
    if (this.encoder.probability && this.encoder.probability(0) !== null)
      extra.sigmoid_scores = scores.map((row) => row.map((c) => this.encoder.probability!(c)));
    return { scores, extra };
  }
}

export const ClipArmSchema = z.strictObject({
  arm: z.literal('clip'),
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
  /** The arm's id in the results (default `clip`): needed when two contrastive models run in one config. */
  label: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .optional(),
});

/** `arm: clip` is contrastive matching: it runs on any kind that provides the contrastive set (CLIP, SigLIP). */
export const CLIP_ARM = defineArm({
  arm: 'clip',
  schema: ClipArmSchema,
  needs: 'contrastive',
  create: (spec, encoder, id) => new ClipArm(spec.model, encoder, id),
});
