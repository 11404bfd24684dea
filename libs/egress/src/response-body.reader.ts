/**
 * Reading a response body under the execution's byte cap. Bodies are decompressed here (the
 * context has no zlib) and the cap counts the decompressed bytes, so a small compressed bomb
 * still hits it.
 */
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { EgressContext } from './egress.context.ts';
import { EgressError } from './egress.error.ts';
import type { RawResponse } from './pinned.transport.ts';

/** The whole (decoded) body, and the headers that still describe it. */
export async function readBody(ctx: EgressContext, res: RawResponse, url: URL, method: string, signal: AbortSignal): Promise<{ body: Buffer; headers: Array<[string, string]> }> {
  const { caps, stats } = ctx;
  if (method === 'HEAD' || res.status === 204 || res.status === 304) {
    res.stream.resume();
    return { body: Buffer.alloc(0), headers: res.headers };
  }
  const encoding = res.headers
    .find(([k]) => k === 'content-encoding')?.[1]
    .trim()
    .toLowerCase();
  let stream: Readable = res.stream;
  let decoded = false;
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.stream.pipe(zlib.createGunzip());
  else if (encoding === 'deflate') stream = res.stream.pipe(zlib.createInflate());
  else if (encoding === 'br') stream = res.stream.pipe(zlib.createBrotliDecompress());
  if (stream !== res.stream) {
    decoded = true;
    // pipe() does not forward errors: a reset or timeout on the socket must end the decoder too.
    res.stream.once('error', (error) => stream.destroy(error));
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      stats.responseBytes += chunk.length;
      if (stats.responseBytes > caps.maxResponseBytes) {
        res.stream.destroy();
        throw new EgressError(
          'EGRESS_LIMIT',
          `Response from ${url.host} is too large: this execution has received more than ${caps.maxResponseBytes} bytes of response bodies (limit ${caps.maxResponseBytes}). Request less data (pagination, fewer properties) or ask the operator to raise the egress response byte limit.`,
        );
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof EgressError) throw error;
    if (signal.aborted && signal.reason instanceof EgressError) throw signal.reason;
    throw new EgressError('EGRESS_NETWORK', `Reading the response from ${url.host} failed: ${(error as Error).message}`);
  }
  const headers = decoded ? res.headers.filter(([k]) => k !== 'content-encoding' && k !== 'content-length') : res.headers;
  return { body: Buffer.concat(chunks), headers };
}
