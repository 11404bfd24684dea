'use strict';
// Node's `dns` and `dns/promises` over the host's resolver, under the egress policy: a name
// whose answer holds a private, loopback or metadata address is refused (`EGRESS_BLOCKED`)
// as a request to it would be. `lookup`, `resolve` and its `resolve4/6/Mx/Txt/Srv/Cname/Ns/…`
// forms, `reverse`, and `Resolver` (whose servers cannot be changed: the host's resolver is used).

const query = (request) =>
  new Promise((resolve, reject) => {
    require('./host-ref.cjs').host.dns(JSON.stringify(request), (answerJson) => {
      let answer;
      try {
        answer = JSON.parse(answerJson);
      } catch {
        answer = { ok: false, error: { code: 'EGRESS_NETWORK', message: 'unreadable DNS answer' } };
      }
      if (answer && answer.ok === true) {
        resolve(answer);
        return;
      }
      const e = (answer && answer.error) || {};
      const error = new Error(String(e.message || 'DNS query failed'));
      error.code = e.code || 'EGRESS_NETWORK';
      error.errno = undefined;
      error.syscall = request.op === 'lookup' ? 'getaddrinfo' : request.op === 'reverse' ? 'getHostByAddr' : `query${String(request.rrtype || 'A')[0]}${String(request.rrtype || 'A').slice(1).toLowerCase()}`;
      error.hostname = request.hostname;
      reject(error);
    });
  });

async function lookupPromise(hostname, options) {
  const opts = typeof options === 'number' ? { family: options } : options || {};
  if (typeof hostname !== 'string') {
    const error = new TypeError('The "hostname" argument must be of type string');
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
  const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : Number(opts.family) || 0;
  const { addresses } = await query({ op: 'lookup', hostname });
  let list = family === 0 ? addresses : addresses.filter((a) => a.family === family);
  if (list.length === 0) {
    const error = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    error.code = 'ENOTFOUND';
    error.syscall = 'getaddrinfo';
    error.hostname = hostname;
    throw error;
  }
  if (opts.order === 'ipv4first' || opts.verbatim === false) list = [...list].sort((a, b) => a.family - b.family);
  return opts.all ? list.map((a) => ({ address: a.address, family: a.family })) : { address: list[0].address, family: list[0].family };
}

const resolvePromise = async (hostname, rrtype = 'A') => (await query({ op: 'resolve', hostname: String(hostname), rrtype: String(rrtype) })).records;
const reversePromise = async (ip) => (await query({ op: 'reverse', ip: String(ip) })).records;

const RESOLVE_FORMS = { resolve4: 'A', resolve6: 'AAAA', resolveAny: 'ANY', resolveCaa: 'CAA', resolveCname: 'CNAME', resolveMx: 'MX', resolveNaptr: 'NAPTR', resolveNs: 'NS', resolvePtr: 'PTR', resolveSoa: 'SOA', resolveSrv: 'SRV', resolveTxt: 'TXT' };

const promises = { lookup: lookupPromise, resolve: resolvePromise, reverse: reversePromise };
for (const [name, rrtype] of Object.entries(RESOLVE_FORMS)) {
  promises[name] = async (hostname, options) => {
    const records = await resolvePromise(hostname, rrtype);
    if ((rrtype === 'A' || rrtype === 'AAAA') && options && options.ttl) return records.map((address) => ({ address, ttl: 0 }));
    return records;
  };
}

const callbackForm = (fn) =>
  function (...args) {
    const callback = args.pop();
    if (typeof callback !== 'function') {
      const error = new TypeError('The "callback" argument must be of type function');
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    fn(...args).then(
      (value) => callback(null, value),
      (error) => callback(error),
    );
  };

const dns = {
  lookup(hostname, options, callback) {
    if (typeof options === 'function') [callback, options] = [options, undefined];
    if (typeof callback !== 'function') {
      const error = new TypeError('The "callback" argument must be of type function');
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    lookupPromise(hostname, options).then(
      (result) => (Array.isArray(result) ? callback(null, result) : callback(null, result.address, result.family)),
      (error) => callback(error),
    );
  },
  resolve(hostname, rrtype, callback) {
    if (typeof rrtype === 'function') [callback, rrtype] = [rrtype, 'A'];
    callbackForm(resolvePromise)(hostname, rrtype, callback);
  },
  reverse: callbackForm(reversePromise),
  getServers: () => [],
  setServers: () => {},
  setDefaultResultOrder: () => {},
  getDefaultResultOrder: () => 'verbatim',
  ADDRCONFIG: 1024,
  V4MAPPED: 2048,
  ALL: 256,
  NODATA: 'ENODATA',
  FORMERR: 'EFORMERR',
  SERVFAIL: 'ESERVFAIL',
  NOTFOUND: 'ENOTFOUND',
  NOTIMP: 'ENOTIMP',
  REFUSED: 'EREFUSED',
  TIMEOUT: 'ETIMEOUT',
  CANCELLED: 'ECANCELLED',
};
for (const name of Object.keys(RESOLVE_FORMS)) dns[name] = callbackForm(promises[name]);

class PromisesResolver {
  cancel() {}
  getServers() {
    return [];
  }
  setServers() {}
  setLocalAddress() {}
}
class Resolver extends PromisesResolver {}
for (const name of ['resolve', 'reverse', ...Object.keys(RESOLVE_FORMS)]) {
  PromisesResolver.prototype[name] = promises[name];
  Resolver.prototype[name] = dns[name];
}
promises.Resolver = PromisesResolver;
promises.getServers = dns.getServers;
promises.setServers = dns.setServers;
promises.setDefaultResultOrder = dns.setDefaultResultOrder;
dns.Resolver = Resolver;
dns.promises = promises;
module.exports = dns;
