/**
 * Starts `count` things at once (a model's runtimes: llama's `servers`) and returns them all, or
 * none: when one start fails, the others are closed once they have started (closing errors
 * ignored) and the first failure is thrown, so no server outlives a worker that could not start.
 */
export async function startTogether<T extends { close(): Promise<void> }>(count: number, start: (index: number) => Promise<T>): Promise<T[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, (_, index) => start(index)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const ok = started.filter((s): s is PromiseFulfilledResult<Awaited<T>> => s.status === 'fulfilled').map((s) => s.value);
  if (failed) {
    await Promise.allSettled(ok.map((t) => t.close()));
    throw failed.reason;
  }
  return ok;
}
