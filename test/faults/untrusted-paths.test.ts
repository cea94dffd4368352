import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { joinInsideDataDir, realPathOutsideReason } from '../../src/core/data-path.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-faults-paths-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('job data and data folders are untrusted (issue 14.6)', () => {
  const data = path.join(dir, 'data');
  fs.mkdirSync(path.join(data, 'images'), { recursive: true });
  fs.writeFileSync(path.join(data, 'images', 'ok.jpg'), 'x');
  fs.writeFileSync(path.join(dir, 'outside.jpg'), 'secret');
  fs.symlinkSync(path.join(dir, 'outside.jpg'), path.join(data, 'images', 'link-out.jpg'));
  fs.symlinkSync('/etc/passwd', path.join(data, 'images', 'passwd.jpg'));
  fs.symlinkSync(path.join(data, 'images', 'ok.jpg'), path.join(data, 'images', 'link-in.jpg'));

  it('absolute paths, ".." and links that leave the data folder are refused by name; links inside are kept', () => {
    const refused = ['/etc/passwd', '../../root/.bashrc', 'images/link-out.jpg', 'images/passwd.jpg'].map((p) => joinInsideDataDir(data, p));
    expect(refused.map((r) => typeof r)).toEqual(['object', 'object', 'object', 'object']);
    expect((refused[0] as { reason: string }).reason).toMatch(/absolute path/);
    expect((refused[1] as { reason: string }).reason).toMatch(/climbs out/);
    expect((refused[2] as { reason: string }).reason).toMatch(/outside the data dir/);
    expect((refused[3] as { reason: string }).reason).toMatch(/link to \/etc\/passwd/);
    expect(joinInsideDataDir(data, 'images/ok.jpg')).toBe(path.join(data, 'images', 'ok.jpg'));
    expect(joinInsideDataDir(data, 'images/link-in.jpg')).toBe(path.join(data, 'images', 'link-in.jpg'));
    expect(realPathOutsideReason(data, path.join(data, 'images', 'missing.jpg'))).toBeUndefined();
  });
});
