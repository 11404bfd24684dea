/**
 * One HTTP exchange, connected to the address the policy checked (a pinned `lookup`, so a DNS
 * answer that changes between check and connect cannot redirect it) and on a connection of
 * its own (`agent: false`).
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { EgressError } from './egress.error.ts';
import type { ResolvedAddress } from './egress.types.ts';

/** The response head and its still unread body stream. */
export interface RawResponse {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  stream: Readable;
}

/** Send one request to `target`, dialling `pinned`; resolves with the response head. */
export function sendPinned(target: URL, pinned: ResolvedAddress, method: string, headers: Array<[string, string]>, body: Buffer | null, signal: AbortSignal): Promise<RawResponse> {
  const outHeaders: Record<string, string | string[]> = { host: target.host };
  for (const [name, value] of headers) {
    const prior = outHeaders[name];
    outHeaders[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  if (outHeaders['accept-encoding'] === undefined) outHeaders['accept-encoding'] = 'gzip, deflate, br';
  if (body !== null) outHeaders['content-length'] = String(body.length);
  const hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<RawResponse>((resolve, reject) => {
    const req = transport.request({
      protocol: target.protocol,
      hostname,
      port: target.port === '' ? undefined : Number(target.port),
      path: `${target.pathname}${target.search}`,
      method,
      headers: outHeaders,
      agent: false,
      signal,
      // Connect to the address that was checked, never to a second DNS answer.
      lookup: ((_host: string, opts: { all?: boolean }, cb: (err: null, address: unknown, family?: number) => void) => {
        if (opts.all) cb(null, [{ address: pinned.address, family: pinned.family }]);
        else cb(null, pinned.address, pinned.family);
      }) as unknown as LookupFunction,
    });
    req.on('response', (res) => {
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        pairs.push([(res.rawHeaders[i] ?? '').toLowerCase(), res.rawHeaders[i + 1] ?? '']);
      }
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: pairs, stream: res });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (signal.aborted) {
        reject(signal.reason instanceof EgressError ? signal.reason : new EgressError('EGRESS_ABORTED', 'the request was aborted'));
        return;
      }
      reject(new EgressError('EGRESS_NETWORK', `Request to ${target.host} failed: ${error.code ?? error.message}`));
    });
    req.end(body ?? undefined);
  });
}
