/**
 * The environment a child process gets: only what it needs, never the whole of ours. llama-server
 * needs the loader and locale variables and its own settings (LLAMA_*, GGML_*, OpenMP, CUDA/Vulkan
 * device selection); it never sees REDIS_URL, API keys or anything else perceive was given.
 */
const PASSED_NAMES = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'TMP',
  'TEMP',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'LD_LIBRARY_PATH',
  'DYLD_LIBRARY_PATH',
  'SYSTEMROOT',
  'CUDA_VISIBLE_DEVICES',
  'HIP_VISIBLE_DEVICES',
  'ROCR_VISIBLE_DEVICES',
]);
const PASSED_PREFIXES = ['LLAMA_ARG_', 'LLAMA_LOG_', 'GGML_', 'OMP_', 'KMP_', 'VK_', 'MESA_', 'XDG_'];

export function childEnvironment(parent: NodeJS.ProcessEnv, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    if (PASSED_NAMES.has(k) || PASSED_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  }
  return { ...out, ...extra };
}
