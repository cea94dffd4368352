// The part of proper-lockfile's API that llama-build-lock.ts uses (the package ships no types).
declare module 'proper-lockfile' {
  interface LockOptions {
    lockfilePath?: string;
    stale?: number;
    update?: number;
    realpath?: boolean;
    retries?: number | { retries: number; minTimeout?: number; maxTimeout?: number; factor?: number };
    onCompromised?: (error: Error) => void;
  }
  export function lock(file: string, options?: LockOptions): Promise<() => Promise<void>>;
  const lockfile: { lock: typeof lock };
  export default lockfile;
}
