/**
 * One function decides where llama-server is (CLI, tests, hints): PERCEIVE_CACHE_DIR moves it with
 * the cache, exactly where `perceive setup` builds it; LLAMA_SERVER_BIN replaces it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/core/environment.js';
import { findLlamaBinaries, findLlamaCppSource, llamaServerLocation, llamaServerMissingHint } from '../../src/models/llama/llama-build.js';

const tag = findLlamaCppSource().tag;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-location-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('llamaServerLocation', () => {
  it('is $PERCEIVE_CACHE_DIR/llama.cpp-<tag>/bin/llama-server, the folder `perceive setup` builds into', () => {
    const env = readEnvironment({ PERCEIVE_CACHE_DIR: tmp, HOME: '/nonexistent' });
    expect(llamaServerLocation(env)).toEqual({
      server: path.join(tmp, `llama.cpp-${tag}`, 'bin', 'llama-server'),
      quantize: path.join(tmp, `llama.cpp-${tag}`, 'bin', 'llama-quantize'),
      origin: 'cache',
      tag,
    });
    expect(findLlamaBinaries(env)).toBeUndefined();
    expect(llamaServerMissingHint(env)).toContain(path.join(tmp, `llama.cpp-${tag}`, 'bin', 'llama-server'));
  });

  it('defaults to $XDG_CACHE_HOME/perceive', () => {
    const env = readEnvironment({ XDG_CACHE_HOME: tmp });
    expect(llamaServerLocation(env).server).toBe(path.join(tmp, 'perceive', `llama.cpp-${tag}`, 'bin', 'llama-server'));
  });

  it('finds binaries placed (here: two executable scripts) under the moved cache', () => {
    const cache = path.join(tmp, 'cache');
    const bin = path.join(cache, `llama.cpp-${tag}`, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    for (const name of ['llama-server', 'llama-quantize']) fs.writeFileSync(path.join(bin, name), '#!/bin/sh\necho "version: 7 (abc1234)"\n', { mode: 0o755 });
    const found = findLlamaBinaries(readEnvironment({ PERCEIVE_CACHE_DIR: cache }));
    expect(found).toEqual({
      server: path.join(bin, 'llama-server'),
      quantize: path.join(bin, 'llama-quantize'),
      origin: 'cache',
      tag,
      buildInfo: '7 (abc1234)',
    });
  });

  it('is LLAMA_SERVER_BIN when set, whatever the cache', () => {
    const env = readEnvironment({ PERCEIVE_CACHE_DIR: tmp, LLAMA_SERVER_BIN: '/opt/llama/bin/llama-server' });
    expect(llamaServerLocation(env)).toEqual({ server: '/opt/llama/bin/llama-server', quantize: '/opt/llama/bin/llama-quantize', origin: 'env', tag: 'user' });
    expect(llamaServerMissingHint(env)).toContain('LLAMA_SERVER_BIN=/opt/llama/bin/llama-server is not an executable file');
  });
});
