import { describe, expect, it } from 'vitest';
import { childEnvironment } from '../../src/core/child-env.js';
import { redactCredentials, redactUrl } from '../../src/core/redact-url.js';
import { argValue, checkServerArgs } from '../../src/models/llama/llama-server.js';
import { LlamaModelSchema } from '../../src/models/llama/llama-model-spec.js';

describe('credentials and exposure (issue 14.7)', () => {
  it('every credential in a URL is redacted', () => {
    expect(redactUrl('redis://host:6379/?password=hunter2')).toBe('redis://host:6379/?password=***');
    expect(redactUrl('redis://user:hunter2@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redactUrl('redis://:hunter2@host')).toBe('redis://:***@host');
    expect(redactUrl('rediss://default:hunter2@host:6380?tls=true&password=x2')).toBe('rediss://default:***@host:6380?tls=true&password=***');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    const line = JSON.stringify({ msg: 'run started', redis: 'redis://h/?db=1&password=hunter2' });
    expect(redactCredentials(line)).not.toContain('hunter2');
    expect(redactCredentials(`no Redis at redis://a:hunter2@h: ECONNREFUSED`)).toBe('no Redis at redis://a:***@h: ECONNREFUSED');
  });

  it('llama-server gets only the environment it needs (no REDIS_URL)', () => {
    const env = childEnvironment(
      { PATH: '/usr/bin', HOME: '/root', REDIS_URL: 'redis://:pw@h', AWS_SECRET_ACCESS_KEY: 'k', GGML_NTHREADS: '2', LLAMA_ARG_LOG_COLORS: 'off' },
      { LLAMA_MEDIA_MARKER: '<m>' },
    );
    expect(Object.keys(env).sort()).toEqual(['GGML_NTHREADS', 'HOME', 'LLAMA_ARG_LOG_COLORS', 'LLAMA_MEDIA_MARKER', 'PATH']);
  });

  it('server_args cannot set --host unless allow_host_override; --api-key is read for the client', () => {
    const base = { kind: 'llama', model: 'm.gguf', mmproj: 'p.gguf' };
    const bad = LlamaModelSchema.safeParse({ ...base, server_args: ['--host', '0.0.0.0'] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['server_args', 0]);
    expect(LlamaModelSchema.safeParse({ ...base, server_args: ['--host=0.0.0.0'], allow_host_override: true }).success).toBe(true);
    expect(() => checkServerArgs(['--host', '0.0.0.0'], false)).toThrow(/127\.0\.0\.1 only/);
    expect(() => checkServerArgs(['--host', '0.0.0.0'], true)).not.toThrow();
    expect(argValue(['-lv', '2', '--api-key', 'k1,k2'], '--api-key')).toBe('k1,k2');
    expect(argValue(['--api-key=s3'], '--api-key')).toBe('s3');
  });
});
