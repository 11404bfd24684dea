import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress, ipLiteralOf, parseIPv4, parseIPv6 } from './ip-address.policy.ts';

void describe('classifyAddress', () => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['0.0.0.0', /unspecified/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.0.10', /private/],
    ['100.64.0.1', /carrier-grade/],
    ['100.127.255.255', /carrier-grade/],
    ['169.254.169.254', /link-local.*metadata/],
    ['224.0.0.251', /multicast/],
    ['255.255.255.255', /reserved or broadcast/],
    ['198.18.0.1', /benchmarking/],
    ['192.0.2.1', /documentation/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped/],
    ['::ffff:8.8.8.8', /IPv4-mapped/],
    ['0:0:0:0:0:ffff:7f00:1', /IPv4-mapped/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fc00::1', /unique local/],
    ['fd12:3456:789a::1', /unique local/],
    ['ff02::1', /multicast/],
    ['64:ff9b::7f00:1', /NAT64 address embedding a loopback/],
    ['64:ff9b::10.0.0.1', /NAT64 address embedding a private/],
    ['64:ff9b:1::1', /local-use NAT64/],
    ['2002:7f00:1::1', /6to4 address embedding a loopback/],
    ['2002:a9fe:a9fe::', /6to4 address embedding a link-local/],
    ['2001:0:4136:e378::1', /Teredo/],
    ['2001:db8::1', /documentation/],
    ['fec0::1', /site-local/],
    ['4000::1', /reserved IPv6/],
    ['not-an-ip', /unparseable/],
    ['127.1', /unparseable/],
  ];
  for (const [address, reason] of refused) {
    void it(`refuses ${address} with a reason that names the range`, () => {
      const verdict = classifyAddress(address);
      assert.equal(verdict.public, false);
      assert.match(verdict.public ? '' : verdict.reason, reason);
    });
  }

  for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '64:ff9b::808:808', '2002:808:808::1']) {
    void it(`accepts the public address ${address}`, () => {
      assert.deepEqual(classifyAddress(address), { public: true });
    });
  }
});

void describe('address parsing', () => {
  void it('parses canonical IPv4 only', () => {
    assert.equal(parseIPv4('1.2.3.4'), 0x01020304);
    assert.equal(parseIPv4('0177.0.0.1'), null);
    assert.equal(parseIPv4('256.0.0.1'), null);
  });

  void it('parses IPv6 with compression, an embedded IPv4 and brackets', () => {
    assert.deepEqual(Array.from(parseIPv6('[::ffff:1.2.3.4]') ?? []), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    assert.equal(parseIPv6('1::2::3'), null);
    assert.equal(parseIPv6('12345::'), null);
  });

  void it('tells IP literals from DNS names', () => {
    assert.deepEqual(ipLiteralOf('[::1]'), { address: '::1', family: 6 });
    assert.deepEqual(ipLiteralOf('10.0.0.1'), { address: '10.0.0.1', family: 4 });
    assert.equal(ipLiteralOf('example.com'), null);
  });
});
