/**
 * The host side of the in-context `zlib` module: one synchronous call of Node's zlib per
 * (de)compression, bytes in and out as base64. The output is capped by `maxOutputLength`
 * (the smaller of what the code asked and the execution's memory), so a small compressed bomb
 * fails with Node's own `ERR_BUFFER_TOO_LARGE` instead of filling the worker.
 */
import zlib from 'node:zlib';
import { BuiltinCallError } from './crypto-host.ts';

const METHODS = {
  deflate: zlib.deflateSync,
  inflate: zlib.inflateSync,
  deflateRaw: zlib.deflateRawSync,
  inflateRaw: zlib.inflateRawSync,
  gzip: zlib.gzipSync,
  gunzip: zlib.gunzipSync,
  unzip: zlib.unzipSync,
  brotliCompress: zlib.brotliCompressSync,
  brotliDecompress: zlib.brotliDecompressSync,
} as const;

type Method = keyof typeof METHODS;

const NUMERIC_OPTIONS = ['flush', 'finishFlush', 'chunkSize', 'windowBits', 'level', 'memLevel', 'strategy', 'maxOutputLength'] as const;

function zlibOptions(given: unknown, maxOutput: number): zlib.ZlibOptions & zlib.BrotliOptions {
  const source = (typeof given === 'object' && given !== null ? given : {}) as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const name of NUMERIC_OPTIONS) if (typeof source[name] === 'number') options[name] = source[name];
  if (typeof source.dictionary === 'string') options.dictionary = Buffer.from(source.dictionary, 'base64');
  if (typeof source.params === 'object' && source.params !== null) {
    const params: Record<number, number> = {};
    for (const [k, v] of Object.entries(source.params)) if (typeof v === 'number') params[Number(k)] = v;
    options.params = params;
  }
  const asked = typeof options.maxOutputLength === 'number' ? options.maxOutputLength : maxOutput;
  options.maxOutputLength = Math.max(1, Math.min(asked, maxOutput));
  return options;
}

/**
 * Runs `method` over `dataBase64`. `maxOutputBytes` is the execution's ceiling.
 *
 * @throws BuiltinCallError for an unknown method or input past `maxOutputBytes`; Node's own
 *   errors (bad data, `ERR_BUFFER_TOO_LARGE`) as they are.
 */
export function zlibCall(args: Record<string, unknown>, maxOutputBytes: number): Record<string, unknown> {
  const method = String(args.method);
  if (!Object.hasOwn(METHODS, method)) throw new BuiltinCallError('ERR_INVALID_ARG_VALUE', `unknown zlib method ${method.slice(0, 40)}`);
  if (typeof args.data !== 'string') throw new BuiltinCallError('ERR_INVALID_ARG_TYPE', 'The "buffer" argument must be bytes');
  const input = Buffer.from(args.data, 'base64');
  if (input.length > maxOutputBytes) throw new BuiltinCallError('ERR_BUFFER_TOO_LARGE', `Cannot process ${input.length} bytes: more than the execution's memory allows (${maxOutputBytes})`);
  const run = METHODS[method as Method] as (buffer: Buffer, options: object) => Buffer;
  return { data: run(input, zlibOptions(args.options, maxOutputBytes)).toString('base64') };
}
