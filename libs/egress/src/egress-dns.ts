/**
 * DNS for sandboxed code (`require('dns')`), under the same policy as its HTTP: a name is
 * resolved by the host's resolver, and an answer holding a private, loopback, link-local or
 * metadata address is refused (`EGRESS_BLOCKED`, naming the address and the rule) unless the
 * name is in `allowHosts` or `mapHosts` (a mapped name answers with its backend's addresses).
 * Non-address records (MX, TXT, SRV, CNAME, NS, …) are returned as they are: using one means
 * connecting to a name, which is checked again then. Queries are counted per execution.
 *
 * Requests and answers are JSON text, as they cross the sandbox's bridge:
 * `{ op: 'lookup', hostname }` → `{ ok: true, addresses: [{ address, family }] }`;
 * `{ op: 'resolve', hostname, rrtype }` → `{ ok: true, records }`;
 * `{ op: 'reverse', ip }` → `{ ok: true, records: [names] }`; failures
 * `{ ok: false, error: { code, message } }` with Node's codes (`ENOTFOUND`, `ENODATA`, …) or
 * `EGRESS_BLOCKED` / `EGRESS_LIMIT`.
 */
import dns from 'node:dns';
import { defaultLookup } from './egress-fetch.ts';
import type { EgressLookup, EgressPolicy, ResolvedAddress } from './egress.types.ts';
import { applyMap, compileHostRules, isAllowed, mapFor } from './host-rules.policy.ts';
import { classifyAddress, ipLiteralOf } from './ip-address.policy.ts';

export const DNS_CAPS = { maxQueries: 100, maxConcurrent: 10 };

const RRTYPES = new Set(['A', 'AAAA', 'ANY', 'CAA', 'CNAME', 'MX', 'NAPTR', 'NS', 'PTR', 'SOA', 'SRV', 'TXT']);
const ADVICE = 'Sandboxed code may only reach public internet addresses; an operator can add a trusted internal host to the egress allowHosts setting.';

class DnsRefusal extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface EgressDnsOptions {
  lookup?: EgressLookup;
  /** Resolves one record type; defaults to a `dns.promises.Resolver`. */
  resolve?: (hostname: string, rrtype: string) => Promise<unknown>;
  reverse?: (ip: string) => Promise<string[]>;
}

/** DNS for one execution: each call answers one JSON request with one JSON answer, never rejecting. */
export type EgressDns = (requestJson: string) => Promise<string>;

function checkAddresses(name: string, addresses: ResolvedAddress[]): void {
  for (const { address } of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.public) throw new DnsRefusal('EGRESS_BLOCKED', `DNS answer for ${name} was refused: it is ${address}, a ${verdict.reason}. ${ADVICE}`);
  }
}

export function createEgressDns(policy: EgressPolicy, options: EgressDnsOptions = {}): EgressDns {
  const rules = compileHostRules(policy);
  const lookup = options.lookup ?? defaultLookup;
  const resolver = new dns.promises.Resolver({ timeout: 5000, tries: 2 });
  const resolve = options.resolve ?? ((hostname: string, rrtype: string) => resolver.resolve(hostname, rrtype));
  const reverse = options.reverse ?? ((ip: string) => resolver.reverse(ip));
  let queries = 0;
  let inFlight = 0;

  /** The name actually asked, and whether the policy exempts it. */
  const target = (hostname: string): { name: string; exempt: boolean } => {
    let url: URL;
    try {
      url = new URL(`http://${hostname}`);
    } catch {
      throw new DnsRefusal('ENOTFOUND', `getaddrinfo ENOTFOUND ${hostname}`);
    }
    const map = mapFor(rules, url);
    const name = map === undefined ? url.hostname : applyMap(url, map).hostname;
    return { name: name.replace(/^\[|\]$/g, ''), exempt: map !== undefined || isAllowed(rules, url) };
  };

  const answer = async (request: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const op = String(request.op);
    if (op === 'reverse') {
      const ip = String(request.ip);
      checkAddresses(ip, [{ address: ip, family: ip.includes(':') ? 6 : 4 }]);
      return { records: await reverse(ip) };
    }
    const hostname = String(request.hostname ?? '');
    if (hostname === '' || hostname.length > 253) throw new DnsRefusal('ENOTFOUND', `getaddrinfo ENOTFOUND ${hostname.slice(0, 253)}`);
    const { name, exempt } = target(hostname);
    const literal = ipLiteralOf(name);
    if (op === 'lookup') {
      const addresses = literal !== null ? [literal] : await lookup(name);
      if (!exempt) checkAddresses(hostname, addresses);
      return { addresses };
    }
    const rrtype = String(request.rrtype ?? 'A').toUpperCase();
    if (!RRTYPES.has(rrtype)) throw new DnsRefusal('ERR_INVALID_ARG_VALUE', `The argument 'rrtype' is invalid. Received '${rrtype.slice(0, 20)}'`);
    const records = await resolve(name, rrtype);
    if (!exempt && (rrtype === 'A' || rrtype === 'AAAA' || rrtype === 'ANY')) {
      const list = Array.isArray(records) ? (records as unknown[]) : [];
      const addresses = list.map((r) => (typeof r === 'string' ? r : String((r as { address?: unknown }).address ?? ''))).filter((a) => a !== '');
      checkAddresses(
        hostname,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    }
    return { records };
  };

  return async (requestJson) => {
    try {
      if (++queries > DNS_CAPS.maxQueries) throw new DnsRefusal('EGRESS_LIMIT', `more than ${DNS_CAPS.maxQueries} DNS queries in one execution`);
      if (inFlight >= DNS_CAPS.maxConcurrent) throw new DnsRefusal('EGRESS_LIMIT', `more than ${DNS_CAPS.maxConcurrent} DNS queries at once`);
      inFlight++;
      try {
        const request = JSON.parse(requestJson) as unknown;
        if (typeof request !== 'object' || request === null) throw new DnsRefusal('ERR_INVALID_ARG_TYPE', 'bad DNS request');
        return JSON.stringify({ ok: true, ...(await answer(request as Record<string, unknown>)) });
      } finally {
        inFlight--;
      }
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown };
      return JSON.stringify({ ok: false, error: { code: typeof e.code === 'string' ? e.code : 'EGRESS_NETWORK', message: String(e.message ?? error).slice(0, 1000) } });
    }
  };
}
