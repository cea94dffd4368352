import type { LoadedImage } from '../../../core/image.js';
import type { Item } from '../../../core/item.js';
import type { ModelIdentity } from '../../capabilities.js';
import type { Arm, ArmOutput } from '../../arm.js';
import { ImageBytes } from './vlm-prompting.js';

/** What an arm on llama-server declares about itself: it goes into every task hash it plans. */
export interface LlamaArmIdentity {
  id: string;
  prompt: { id: string; version: number };
  params: Record<string, unknown>;
  /** Images sent padded to a square with the CLIP mean colour (LLaVA's `expand2square`). */
  padToSquare: boolean;
}

/**
 * The base of the arms that ask a generative model through the capabilities of a llama.cpp VLM (a llama-server on a
 * GGUF pair): their identity, the model hash, and the image bytes as sent (padded once per image
 * when the arm pads). Each arm adds its prompt and its scoring.
 */
export abstract class LlamaArm<R extends ModelIdentity = ModelIdentity> implements Arm {
  readonly id: string;
  readonly prompt: { id: string; version: number };
  readonly params: Record<string, unknown>;
  protected readonly bytes: ImageBytes;

  protected constructor(
    readonly model: string,
    protected readonly runner: R,
    identity: LlamaArmIdentity,
  ) {
    this.id = identity.id;
    this.prompt = identity.prompt;
    this.params = identity.params;
    this.bytes = new ImageBytes(identity.padToSquare);
  }

  get modelHash(): string {
    return this.runner.modelHash;
  }

  abstract score(item: Item, images: LoadedImage[]): Promise<ArmOutput>;
}
