/**
 * The operator's `allowHosts` and `mapHosts`, parsed once per egress fetch and matched against
 * each URL: which hosts skip the address check, and which are rewritten to another backend
 * (and back, for a redirect from that backend).
 */
import { CodestepError } from '@codestep/core';
import type { EgressPolicy } from './egress.types.ts';

interface HostEntry {
  hostname: string;
  /** `undefined` matches any port. */
  port: string | undefined;
  wildcard: boolean;
}

function parseHostEntry(entry: string): HostEntry {
  const text = entry.trim().toLowerCase();
  const wildcard = text.startsWith('*.');
  const body = wildcard ? text.slice(2) : text;
  let url: URL;
  try {
    url = new URL(`http://${body}`);
  } catch {
    throw new CodestepError('INVALID_ARGUMENT', `egress allowHosts entry "${entry}" is not a host or host:port`);
  }
  const explicitPort = /:(\d+)$/.exec(body)?.[1];
  return { hostname: url.hostname, port: explicitPort, wildcard };
}

function defaultPort(url: URL): string {
  return url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
}

function entryMatches(entry: HostEntry, url: URL): boolean {
  if (entry.port !== undefined && entry.port !== defaultPort(url)) return false;
  if (entry.wildcard) return url.hostname.endsWith(`.${entry.hostname}`);
  return url.hostname === entry.hostname;
}

/** One `mapHosts` rewrite: the host the sandbox names, and the base URL actually dialled. */
export interface MapEntry {
  from: HostEntry;
  to: URL;
}

function parseMapHosts(mapHosts: Record<string, string>): MapEntry[] {
  return Object.entries(mapHosts).map(([from, to]) => {
    let target: URL;
    try {
      target = new URL(to);
    } catch {
      throw new CodestepError('INVALID_ARGUMENT', `egress mapHosts["${from}"] = "${to}" is not a URL`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new CodestepError('INVALID_ARGUMENT', `egress mapHosts["${from}"] must be an http or https URL`);
    }
    return { from: parseHostEntry(from), to: target };
  });
}

/** The parsed policy: the hosts exempt from the address check, and the host rewrites. */
export interface HostRules {
  allow: HostEntry[];
  maps: MapEntry[];
}

/**
 * Parse the policy's host lists.
 *
 * @throws CodestepError `INVALID_ARGUMENT` when an entry is not a host, host:port or http(s) URL.
 */
export function compileHostRules(policy: EgressPolicy): HostRules {
  const allow = policy.allowHosts.map(parseHostEntry);
  const maps = parseMapHosts(policy.mapHosts);
  return { allow, maps };
}

/** Whether `url` is in `allowHosts`. */
export function isAllowed(rules: HostRules, url: URL): boolean {
  return rules.allow.some((entry) => entryMatches(entry, url));
}

/** The `mapHosts` rewrite for `url`, if any. */
export function mapFor(rules: HostRules, url: URL): MapEntry | undefined {
  return rules.maps.find((m) => entryMatches(m.from, url));
}

/** The URL actually dialled for a sandbox-visible URL: origin swapped, base path prepended. */
export function applyMap(url: URL, map: MapEntry | undefined): URL {
  if (map === undefined) return url;
  const out = new URL(map.to.href);
  const base = out.pathname.endsWith('/') ? out.pathname.slice(0, -1) : out.pathname;
  out.pathname = base + url.pathname;
  out.search = url.search;
  return out;
}

/** A redirect to the mapped backend itself is translated back to the name the sandbox used. */
export function unmap(rules: HostRules, next: URL, current: URL): URL {
  const map = mapFor(rules, current);
  if (map === undefined || next.origin !== map.to.origin) return next;
  const base = map.to.pathname.endsWith('/') ? map.to.pathname.slice(0, -1) : map.to.pathname;
  if (base !== '' && next.pathname !== base && !next.pathname.startsWith(base + '/')) return next;
  const out = new URL(next.href);
  out.protocol = current.protocol;
  out.host = current.host;
  out.port = current.port;
  out.pathname = next.pathname.slice(base.length) || '/';
  return out;
}
