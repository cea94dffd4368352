/** An image as a model receives it: its bytes and their sha256 (hex). */
export interface ImageInput {
  bytes: Buffer;
  sha256: string;
}
