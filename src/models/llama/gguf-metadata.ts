import type { readGgufFileInfo } from 'node-llama-cpp';
import { PerceiveError, errorMessage } from '../../core/errors.js';

/**
 * What the manifest records about one GGUF file, read with node-llama-cpp's GGUF reader
 * (`readGgufFileInfo`: header, metadata and tensor infos only, never the weights).
 */
export interface GgufMetadataSummary {
  file: string;
  /** `general.architecture`, e.g. `llama`, `clip`, `qwen2vl`. */
  architecture: string;
  /** `general.name` when the converter wrote one. */
  name: string | undefined;
  /** `general.file_type` as llama.cpp names it (e.g. `MOSTLY_Q4_K_M`), or undefined when absent. */
  quantisation: string | undefined;
  /** `general.file_type` as the number stored in the file. */
  fileType: number | undefined;
  /** Sum of the element counts of every tensor in the file. */
  parameters: number;
  tensorCount: number;
  /** `<arch>.context_length`, `<arch>.embedding_length`, `<arch>.block_count` where present. */
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  blockCount: number | undefined;
  /** `tokenizer.chat_template` is present (the `model` prompt format renders through it). */
  hasChatTemplate: boolean;
  /** GGUF format version. */
  ggufVersion: number;
}

function numberOrUndefined(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** Reads the metadata of a GGUF file (text model or mmproj). A file that is not GGUF fails naming it. */
export async function readGgufMetadata(file: string): Promise<GgufMetadataSummary> {
  // Loaded on first use: node-llama-cpp takes about 0.6 s to import, and a worker never needs it.
  const { GgufFileType, readGgufFileInfo: readInfo } = await import('node-llama-cpp');
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    info = await readInfo(file, { logWarnings: false, readTensorInfo: true });
  } catch (error) {
    throw new PerceiveError('bad-gguf', `cannot read GGUF metadata of ${file}: ${errorMessage(error)}`);
  }
  const metadata = info.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  const general = metadata.general ?? {};
  const architecture = typeof general.architecture === 'string' ? general.architecture : 'unknown';
  const fileType = numberOrUndefined(general.file_type);
  const arch = metadata[architecture] ?? {};
  let parameters = 0;
  for (const t of info.tensorInfo ?? []) parameters += t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
  const tokenizer = metadata.tokenizer ?? {};
  return {
    file,
    architecture,
    name: typeof general.name === 'string' ? general.name : undefined,
    quantisation: fileType === undefined ? undefined : (GgufFileType[fileType] ?? `file_type ${fileType}`),
    fileType,
    parameters,
    tensorCount: info.tensorInfo?.length ?? 0,
    contextLength: numberOrUndefined(arch.context_length),
    embeddingLength: numberOrUndefined(arch.embedding_length),
    blockCount: numberOrUndefined(arch.block_count),
    hasChatTemplate: typeof tokenizer.chat_template === 'string',
    ggufVersion: info.version,
  };
}
