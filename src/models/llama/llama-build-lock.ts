import path from 'node:path';

/**
 * One llama.cpp build per cache folder at a time. Two `perceive setup`s (or two test processes, or
 * a run's workers) building into the same folder race on the same object files and the link fails
 * (seen: "server.cpp.o: No such file or directory"). proper-lockfile's lock is a directory created
 * atomically beside the build (`build.lock`), refreshed while held and stale after a minute without
 * a refresh (a killed build), so it works across processes and on network file systems.
 *
 * proper-lockfile is imported here, on a build only: it loads signal-exit, whose SIGTERM/SIGINT
 * listeners would make every process that merely imports the llama kind keep running after a signal
 * (LlamaServer re-raises a parent's signal only when it is the signal's one listener).
 */
export async function withBuildLock<T>(root: string, onWait: () => void, build: () => Promise<T>): Promise<T> {
  const options = {
    lockfilePath: path.join(root, 'build.lock'),
    realpath: false,
    stale: 60_000,
    update: 10_000,
    // A lost lock (the event loop stalled past `stale`) must not crash the build that holds it.
    onCompromised: () => {},
  };
  const { default: lockfile } = await import('proper-lockfile');
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(root, { ...options, retries: 0 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    onWait();
    // Another process is building: wait for it (a build takes minutes; up to about two hours here).
    release = await lockfile.lock(root, { ...options, retries: { retries: 1500, minTimeout: 2000, maxTimeout: 5000, factor: 1.2 } });
  }
  try {
    return await build();
  } finally {
    await release().catch(() => {});
  }
}
