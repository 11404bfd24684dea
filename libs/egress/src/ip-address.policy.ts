/**
 * Which IP addresses a sandboxed execution may connect to: public unicast only. Everything
 * else (loopback, private, link-local and cloud metadata, CGNAT, ULA, multicast, reserved,
 * documentation ranges, and IPv6 forms that embed or tunnel an IPv4 address) is refused, so a
 * tenant's code cannot reach the operator's internal network through the host's fetch.
 *
 * Addresses arrive here already resolved (by DNS or from a URL literal that WHATWG URL parsing
 * has normalised), so the parsers accept only canonical dotted-quad IPv4 and RFC 4291 IPv6.
 */

/** Why an address is refused, or `null` when it is public. */
export type AddressVerdict = { public: true } | { public: false; reason: string };

interface Range4 {
  base: number;
  bits: number;
  reason: string;
}

const IPV4_BLOCKED: Range4[] = [
  r4('0.0.0.0', 8, 'unspecified / "this network" address (0.0.0.0/8)'),
  r4('10.0.0.0', 8, 'private address (10.0.0.0/8)'),
  r4('100.64.0.0', 10, 'carrier-grade NAT address (100.64.0.0/10)'),
  r4('127.0.0.0', 8, 'loopback address (127.0.0.0/8)'),
  r4('169.254.0.0', 16, 'link-local address (169.254.0.0/16, includes cloud metadata 169.254.169.254)'),
  r4('172.16.0.0', 12, 'private address (172.16.0.0/12)'),
  r4('192.0.0.0', 24, 'IETF protocol assignment (192.0.0.0/24)'),
  r4('192.0.2.0', 24, 'documentation address (192.0.2.0/24)'),
  r4('192.88.99.0', 24, '6to4 relay anycast address (192.88.99.0/24)'),
  r4('192.168.0.0', 16, 'private address (192.168.0.0/16)'),
  r4('198.18.0.0', 15, 'benchmarking address (198.18.0.0/15)'),
  r4('198.51.100.0', 24, 'documentation address (198.51.100.0/24)'),
  r4('203.0.113.0', 24, 'documentation address (203.0.113.0/24)'),
  r4('224.0.0.0', 4, 'multicast address (224.0.0.0/4)'),
  r4('240.0.0.0', 4, 'reserved or broadcast address (240.0.0.0/4)'),
];

function r4(base: string, bits: number, reason: string): Range4 {
  const parsed = parseIPv4(base);
  if (parsed === null) throw new Error(`bad range ${base}`);
  return { base: parsed, bits, reason };
}

/** Canonical dotted-quad IPv4 to an unsigned 32-bit number; `null` if it is not one. */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

/** RFC 4291 text (with `::`, an embedded dotted quad, an optional zone) to 16 bytes; `null` if invalid. */
export function parseIPv6(input: string): Uint8Array | null {
  let text = input;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (text.length === 0 || !/^[0-9a-fA-F:.]+$/.test(text)) return null;

  const words: number[] = [];
  let tail: number[] = [];
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseHalf = (half: string, allowV4: boolean): number[] | null => {
    if (half === '') return [];
    const groups = half.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i] ?? '';
      if (allowV4 && i === groups.length - 1 && group.includes('.')) {
        const v4 = parseIPv4(group);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  if (halves.length === 1) {
    const all = parseHalf(halves[0] ?? '', true);
    if (all === null || all.length !== 8) return null;
    words.push(...all);
  } else {
    const head = parseHalf(halves[0] ?? '', false);
    const rest = parseHalf(halves[1] ?? '', true);
    if (head === null || rest === null || head.length + rest.length > 7) return null;
    tail = rest;
    words.push(...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...tail);
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >>> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

function classifyIPv4Number(value: number): AddressVerdict {
  for (const range of IPV4_BLOCKED) {
    const size = 2 ** (32 - range.bits);
    if (value >= range.base && value < range.base + size) return { public: false, reason: range.reason };
  }
  return { public: true };
}

function prefixMatches(bytes: Uint8Array, prefix: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const want = prefix[bit / 8] ?? 0;
    const have = bytes[bit / 8] ?? 0;
    const span = Math.min(8, bits - bit);
    const mask = (0xff << (8 - span)) & 0xff;
    if ((want & mask) !== (have & mask)) return false;
  }
  return true;
}

function v4At(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] ?? 0) * 2 ** 24 + ((bytes[offset + 1] ?? 0) << 16) + ((bytes[offset + 2] ?? 0) << 8) + (bytes[offset + 3] ?? 0);
}

function formatV4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

function classifyIPv6Bytes(bytes: Uint8Array): AddressVerdict {
  const allZeroUpTo = (n: number) => bytes.subarray(0, n).every((b) => b === 0);
  if (allZeroUpTo(16)) return { public: false, reason: 'unspecified address (::)' };
  if (allZeroUpTo(15) && bytes[15] === 1) return { public: false, reason: 'loopback address (::1)' };
  if (allZeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { public: false, reason: `IPv4-mapped IPv6 address (::ffff:${formatV4(v4At(bytes, 12))})` };
  }
  if (allZeroUpTo(12)) return { public: false, reason: `IPv4-compatible IPv6 address (::${formatV4(v4At(bytes, 12))})` };
  // NAT64 well-known prefix: the IPv4 address it reaches decides.
  if (prefixMatches(bytes, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) {
    const inner = classifyIPv4Number(v4At(bytes, 12));
    return inner.public ? inner : { public: false, reason: `NAT64 address embedding a ${inner.reason}` };
  }
  if (prefixMatches(bytes, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return { public: false, reason: 'local-use NAT64 address (64:ff9b:1::/48)' };
  if (prefixMatches(bytes, [0x01, 0x00, 0, 0, 0, 0, 0, 0], 64)) return { public: false, reason: 'discard-only address (100::/64)' };
  if (prefixMatches(bytes, [0x20, 0x01, 0x0d, 0xb8], 32)) return { public: false, reason: 'documentation address (2001:db8::/32)' };
  // Teredo tunnels to an obfuscated IPv4 address: no way to vet the far end.
  if (prefixMatches(bytes, [0x20, 0x01, 0x00, 0x00], 32)) return { public: false, reason: 'Teredo tunnel address (2001::/32)' };
  if (prefixMatches(bytes, [0x20, 0x02], 16)) {
    const inner = classifyIPv4Number(v4At(bytes, 2));
    return inner.public ? inner : { public: false, reason: `6to4 address embedding a ${inner.reason}` };
  }
  if (prefixMatches(bytes, [0xfc], 7)) return { public: false, reason: 'unique local address (fc00::/7)' };
  if (prefixMatches(bytes, [0xfe, 0x80], 10)) return { public: false, reason: 'link-local address (fe80::/10)' };
  if (prefixMatches(bytes, [0xfe, 0xc0], 10)) return { public: false, reason: 'site-local address (fec0::/10)' };
  if (prefixMatches(bytes, [0xff], 8)) return { public: false, reason: 'multicast address (ff00::/8)' };
  // Only 2000::/3 is allocated as global unicast; everything else is reserved.
  if (!prefixMatches(bytes, [0x20], 3)) return { public: false, reason: 'reserved IPv6 address (outside 2000::/3)' };
  return { public: true };
}

/**
 * Classify a resolved address. Anything that is not a well-formed IPv4 or IPv6 address is
 * refused too, so a resolver returning something odd fails closed.
 */
export function classifyAddress(address: string): AddressVerdict {
  const v4 = parseIPv4(address);
  if (v4 !== null) return classifyIPv4Number(v4);
  const v6 = parseIPv6(address);
  if (v6 !== null) return classifyIPv6Bytes(v6);
  return { public: false, reason: `unparseable address "${address}"` };
}

/** The IP literal a URL hostname denotes (brackets removed), or `null` for a DNS name. */
export function ipLiteralOf(hostname: string): { address: string; family: 4 | 6 } | null {
  if (parseIPv4(hostname) !== null) return { address: hostname, family: 4 };
  if (hostname.startsWith('[') && parseIPv6(hostname) !== null) return { address: hostname.slice(1, -1), family: 6 };
  if (hostname.includes(':') && parseIPv6(hostname) !== null) return { address: hostname, family: 6 };
  return null;
}
