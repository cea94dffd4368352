import { BatchingEncoder } from '../clip/batching-encoder.js';
import { defineModelKind } from '../model-kind.js';
import { onnxCudaInstalled, resolveOnnxProvider } from '../clip/onnx-provider.js';
import { SiglipEncoder } from './siglip-encoder.js';
import { SiglipModelSchema } from './siglip-model-spec.js';

/** SigLIP / SigLIP2 (fixed resolution) as an ONNX folder on onnxruntime-node: the contrastive capability set. */
export const SIGLIP_KIND = defineModelKind({
  kind: 'siglip',
  description: 'SigLIP or SigLIP2, a Hugging Face ONNX folder on onnxruntime-node',
  schema: SiglipModelSchema,
  provides: 'contrastive',
  resolvePaths: (spec, resolve) => ({ ...spec, path: resolve(spec.path) }),
  files: (spec) => [spec.path],
  slots: (spec) => spec.batch_size,
  async hash(spec) {
    const encoder = await SiglipEncoder.load(spec.path, { threads: 1 });
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
    const encoder = await SiglipEncoder.load(spec.path, { threads: spec.threads ?? env.threads, batchSize: spec.batch_size, provider: spec.provider });
    if (encoder.providerNote) log?.warn({ model: name, provider: encoder.provider, note: encoder.providerNote }, 'onnxruntime provider fell back to the CPU');
    else log?.info({ model: name, provider: encoder.provider }, 'onnxruntime provider');
    const batching = new BatchingEncoder(encoder, spec.batch_size);
    return { capabilities: batching, slots: spec.batch_size, close: () => batching.close() };
  },
});
