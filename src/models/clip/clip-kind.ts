import { defineModelKind } from '../model-kind.js';
import { onnxCudaInstalled, resolveOnnxProvider } from './onnx-provider.js';
import { BatchingEncoder } from './batching-encoder.js';
import { ClipEncoder } from './clip-encoder.js';
import { ClipModelSchema } from './clip-model-spec.js';

/** CLIP as an ONNX folder on onnxruntime-node: the contrastive capability set. */
export const CLIP_KIND = defineModelKind({
  kind: 'clip',
  description: 'CLIP, a Hugging Face ONNX folder on onnxruntime-node',
  schema: ClipModelSchema,
  provides: 'contrastive',
  resolvePaths: (spec, resolve) => ({ ...spec, path: resolve(spec.path) }),
  files: (spec) => [spec.path],
  slots: (spec) => spec.batch_size,
  /** The encoder's own hash: the folder's layout decides which files count, so it is opened and closed again. */
  async hash(spec) {
    const encoder = await ClipEncoder.load(spec.path, { threads: 1 });
    try {
      return encoder.modelHash;
    } finally {
      await encoder.close();
    }
  },
  /** The provider as resolved on this host; a worker whose CUDA start fails under auto logs its fallback. */
  describe: (spec) => ({
    provider: resolveOnnxProvider(spec.provider, spec.provider === 'cpu' ? false : onnxCudaInstalled()),
    provider_setting: spec.provider,
  }),
  async start(name, spec, { env, log }) {
    const encoder = await ClipEncoder.load(spec.path, { threads: spec.threads ?? env.threads, batchSize: spec.batch_size, provider: spec.provider });
    if (encoder.providerNote) log?.warn({ model: name, provider: encoder.provider, note: encoder.providerNote }, 'onnxruntime provider fell back to the CPU');
    else log?.info({ model: name, provider: encoder.provider }, 'onnxruntime provider');
    // Bundles served concurrently share batches (one onnxruntime call for several bundles' images).
    const batching = new BatchingEncoder(encoder, spec.batch_size);
    return { capabilities: batching, slots: spec.batch_size, close: () => batching.close() };
  },
});
