'use strict';
// `net.isIP`, `isIPv4`, `isIPv6` as Node answers them: dotted-decimal IPv4 without leading
// zeros; IPv6 in any RFC 4291 spelling (`::`, an embedded IPv4 tail), with an optional zone.

const V4_PART = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const V4 = new RegExp(`^${V4_PART}(?:\\.${V4_PART}){3}$`);
const HEX = /^[0-9a-fA-F]{1,4}$/;

function isIPv4(input) {
  return typeof input === 'string' && V4.test(input);
}

function isIPv6(input) {
  if (typeof input !== 'string' || input.length > 100) return false;
  let text = input;
  const zone = text.indexOf('%');
  if (zone >= 0) {
    if (zone === text.length - 1) return false;
    text = text.slice(0, zone);
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (half) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = head.concat(tail);
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i];
    if (i === all.length - 1 && group.includes('.')) {
      if (!isIPv4(group)) return false;
      count += 2;
    } else if (HEX.test(group)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

function isIP(input) {
  if (isIPv4(input)) return 4;
  if (isIPv6(input)) return 6;
  return 0;
}

module.exports = { isIP, isIPv4, isIPv6 };
