'use strict';
// tr46 (UTS #46 processing) for the in-context URL parser, with a fast path that needs no data:
// the real module parses a 140 KB mapping table and compiles large Unicode regular expressions
// when it is first required, which every fresh context would pay on its first URL (a fetch
// included), about a millisecond plus the garbage. The build (runtime.build.ts) points
// whatwg-url's `require('tr46')` here; the real module is still used for everything else.
//
// The fast path is exact: in tr46's mapping table every ASCII code point is `valid` except
// A-Z, `mapped` to a-z (the test suite checks this against the real table). So with the
// options of non-strict URL parsing (no hyphen, STD3 or DNS-length checks, nontransitional),
// an ASCII domain none of whose labels starts with `xn--` goes through mapping, NFC,
// validation and Punycode unchanged but for lower-casing: no bidi or joiner rule can apply
// to ASCII, and only `xn--` labels decode to something that could fail them.

let real = null;
const load = () => {
  if (real === null) real = require('tr46');
  return real;
};

const ASCII = /^[\x00-\x7f]*$/;
const PUNYCODE_LABEL = /(?:^|\.)xn--/;

function toASCII(domainName, options) {
  const o = options || {};
  if (
    typeof domainName === 'string' &&
    o.checkHyphens !== true &&
    o.useSTD3ASCIIRules !== true &&
    o.verifyDNSLength !== true &&
    o.transitionalProcessing !== true &&
    ASCII.test(domainName)
  ) {
    const lower = domainName.toLowerCase();
    if (!PUNYCODE_LABEL.test(lower)) return lower;
  }
  return load().toASCII(domainName, options);
}

function toUnicode(domainName, options) {
  return load().toUnicode(domainName, options);
}

module.exports = { toASCII, toUnicode };
