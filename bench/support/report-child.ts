/**
 * `perceive report DIR` in a child process, timed: wall ms from spawn to exit, and the child's peak
 * RSS (kB) and CPU ms (user + system), printed by a preload at its exit from
 * `process.resourceUsage()`. Shared by bench/report-scale.ts, bench/report-html.ts and bench/scale.ts.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ReportTiming {
  wallMs: number;
  peakKb: number;
  cpuMs: number;
}

export function timeReport(dir: string): Promise<ReportTiming> {
  const preload =
    'data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("peak-rss-kb "+u.maxRSS+" cpu-us "+(u.userCPUTime+u.systemCPUTime)+"\\n")})';
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--import', preload, path.join(ROOT, 'bin', 'perceive.js'), 'report', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - start;
      const peak = /peak-rss-kb (\d+) cpu-us (\d+)/.exec(stderr);
      if (code !== 0 || !peak) reject(new Error(`perceive report exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ wallMs, peakKb: Number(peak[1]), cpuMs: Number(peak[2]) / 1000 });
    });
  });
}
