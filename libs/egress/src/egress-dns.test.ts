import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEgressDns, DNS_CAPS } from './egress-dns.ts';

const answers: Record<string, string[]> = {
  'public.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'mixed.example.com': ['93.184.215.14', '192.168.1.10'],
  'backend.internal': ['10.0.0.5'],
};
const lookup = async (name: string) => {
  const list = answers[name];
  if (list === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return list.map((address) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }));
};
const resolve = async (name: string, rrtype: string) =>
  rrtype === 'MX' ? [{ exchange: 'mx.internal', priority: 5 }] : (answers[name] ?? []).filter((a) => (rrtype === 'AAAA' ? a.includes(':') : !a.includes(':')));
const ask = async (dns: (json: string) => Promise<string>, request: object) =>
  JSON.parse(await dns(JSON.stringify(request))) as { ok: boolean; addresses?: unknown; records?: unknown; error?: { code: string; message: string } };

describe('createEgressDns', () => {
  const policy = { allowHosts: ['trusted.internal'], mapHosts: { 'api.hubapi.com': 'http://127.0.0.1:4010' } };

  it('answers public names, refuses an answer holding any non-public address and names the address and rule', async () => {
    const dns = createEgressDns(policy, { lookup, resolve });
    assert.deepEqual((await ask(dns, { op: 'lookup', hostname: 'public.example.com' })).addresses, await lookup('public.example.com'));
    const mixed = await ask(dns, { op: 'lookup', hostname: 'mixed.example.com' });
    assert.equal(mixed.error?.code, 'EGRESS_BLOCKED');
    assert.match(mixed.error?.message ?? '', /192\.168\.1\.10, a private/);
    assert.equal((await ask(dns, { op: 'resolve', hostname: 'mixed.example.com', rrtype: 'A' })).error?.code, 'EGRESS_BLOCKED');
    assert.equal((await ask(dns, { op: 'lookup', hostname: '169.254.169.254' })).error?.code, 'EGRESS_BLOCKED');
    assert.equal((await ask(dns, { op: 'reverse', ip: '10.0.0.1' })).error?.code, 'EGRESS_BLOCKED');
    assert.equal((await ask(dns, { op: 'lookup', hostname: 'nowhere.example.com' })).error?.code, 'ENOTFOUND');
  });

  it('exempts allowHosts and answers a mapped name with its backend; passes non-address records through', async () => {
    const dns = createEgressDns(policy, { lookup: async (name) => (name === 'trusted.internal' ? [{ address: '10.1.1.1', family: 4 }] : lookup(name)), resolve });
    assert.deepEqual((await ask(dns, { op: 'lookup', hostname: 'trusted.internal' })).addresses, [{ address: '10.1.1.1', family: 4 }]);
    assert.deepEqual((await ask(dns, { op: 'lookup', hostname: 'api.hubapi.com' })).addresses, [{ address: '127.0.0.1', family: 4 }]);
    assert.deepEqual((await ask(dns, { op: 'resolve', hostname: 'example.com', rrtype: 'MX' })).records, [{ exchange: 'mx.internal', priority: 5 }]);
    assert.equal((await ask(dns, { op: 'resolve', hostname: 'example.com', rrtype: 'AXFR' })).error?.code, 'ERR_INVALID_ARG_VALUE');
  });

  it('caps queries per execution and in flight with EGRESS_LIMIT', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const slow = createEgressDns(policy, { lookup: async (name) => (await gate, lookup(name)) });
    const inFlight = Array.from({ length: DNS_CAPS.maxConcurrent + 1 }, () => ask(slow, { op: 'lookup', hostname: 'public.example.com' }));
    release();
    const codes = (await Promise.all(inFlight)).map((a) => a.error?.code ?? 'ok');
    assert.equal(codes.filter((c) => c === 'EGRESS_LIMIT').length, 1);
    const dns = createEgressDns(policy, { lookup, resolve });
    const all = [];
    for (let i = 0; i <= DNS_CAPS.maxQueries; i++) all.push(await ask(dns, { op: 'lookup', hostname: 'public.example.com' }));
    assert.equal(all.at(-1)?.error?.code, 'EGRESS_LIMIT');
    assert.equal(all.filter((a) => a.ok).length, DNS_CAPS.maxQueries);
  });
});
