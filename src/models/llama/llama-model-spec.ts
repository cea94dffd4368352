import { z } from 'zod';

const SERVERS_MESSAGE = 'a whole number ≥ 1 (llama-server processes per worker)';

/** A llama.cpp VLM in the config: a text GGUF and its vision projector, served by llama-server. */
export const LlamaModelSchema = z
  .strictObject({
    kind: z.literal('llama'),
    /** Text GGUF (e.g. llava-v1.5-7b Q4_K_M). */
    model: z.string().min(1),
    /** Vision projector GGUF (mmproj). */
    mmproj: z.string().min(1),
    context_size: z.number().int().positive().default(4096),
    threads: z.number().int().positive().optional(),
    /** llama-server `-np`: parallel slots (each gets context_size / slots tokens of context); a worker serves this many bundles at once. */
    slots: z.number().int().positive().default(1),
    /**
     * llama-server processes per worker (each with its own `slots`, port and log file, on the same
     * `devices`): several servers on one GPU without more workers. A bundle runs on one of them.
     */
    servers: z.number(SERVERS_MESSAGE).int(SERVERS_MESSAGE).positive(SERVERS_MESSAGE).default(1),
    /**
     * llama-server `-ngl`: layers kept on the GPU, a number, `auto` (llama.cpp's default: as many
     * as fit) or `all`. Only a GPU build (`perceive setup --cuda`, or LLAMA_SERVER_BIN) has a GPU.
     */
    gpu_layers: z.union([z.number().int().nonnegative(), z.enum(['auto', 'all'])]).optional(),
    /**
     * llama-server `--device`: the devices to offload to (`CUDA0`, `CUDA1`, or `none`; llama-server
     * --list-devices names them). Several servers on one GPU: `servers`.
     */
    devices: z
      .array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a device name as llama-server --list-devices prints it'))
      .min(1)
      .optional(),
    /** Per-request timeout; a request past it is retried on a restarted server (real 7B: ~1 min per new image on CPU). */
    request_timeout_ms: z.number().int().positive().default(600_000),
    /** Extra llama-server arguments, as a list (never a shell string). */
    server_args: z.array(z.string()).default([]),
    /** Lets server_args set `--host` (llama-server then answers on that interface); off by default. */
    allow_host_override: z.boolean().optional(),
  })
  .superRefine((spec, ctx) => {
    const host = spec.server_args.findIndex((a) => a === '--host' || a.startsWith('--host='));
    if (host !== -1 && !spec.allow_host_override) {
      ctx.addIssue({
        code: 'custom',
        path: ['server_args', host],
        message: 'sets --host: llama-server listens on 127.0.0.1 only; add allow_host_override: true to expose it on purpose',
      });
    }
  });

export type LlamaModelSpec = z.output<typeof LlamaModelSchema>;
