'use strict';
// Node's `url` module: the WHATWG URL classes plus the legacy parse/format/resolve API that
// older libraries still call.

const querystring = require('querystring-es3');

const SLASHED = new Set(['http:', 'https:', 'ftp:', 'gopher:', 'file:', 'ws:', 'wss:']);

function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

function parse(input, parseQueryString = false, slashesDenoteHost = false) {
  if (input instanceof Url) return input;
  if (typeof input !== 'string') throw new TypeError(`The "url" argument must be of type string. Received ${typeof input}`);
  const u = new Url();
  let rest = input.trim().replace(/\\/g, '/');
  const hashAt = rest.indexOf('#');
  if (hashAt !== -1) {
    u.hash = rest.slice(hashAt);
    rest = rest.slice(0, hashAt);
  }
  const queryAt = rest.indexOf('?');
  if (queryAt !== -1) {
    u.search = rest.slice(queryAt);
    u.query = rest.slice(queryAt + 1);
    rest = rest.slice(0, queryAt);
  } else if (parseQueryString) {
    u.search = '';
    u.query = {};
  }
  const proto = /^([a-z0-9.+-]+:)/i.exec(rest);
  if (proto) {
    u.protocol = proto[1].toLowerCase();
    rest = rest.slice(proto[1].length);
  }
  if ((slashesDenoteHost || proto) && rest.startsWith('//') && u.protocol !== 'javascript:') {
    u.slashes = true;
    rest = rest.slice(2);
    const end = rest.search(/[/]/);
    let authority = end === -1 ? rest : rest.slice(0, end);
    rest = end === -1 ? '' : rest.slice(end);
    const at = authority.lastIndexOf('@');
    if (at !== -1) {
      u.auth = decodeURIComponent(authority.slice(0, at));
      authority = authority.slice(at + 1);
    }
    const portMatch = /:(\d*)$/.exec(authority);
    if (portMatch) {
      if (portMatch[1] !== '') u.port = portMatch[1];
      authority = authority.slice(0, -portMatch[0].length);
    }
    u.hostname = authority.toLowerCase();
    if (u.hostname.startsWith('[') && u.hostname.endsWith(']')) u.hostname = u.hostname.slice(1, -1);
    u.host = (u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname) + (u.port ? `:${u.port}` : '');
  }
  u.pathname = rest !== '' ? rest : u.slashes && SLASHED.has(u.protocol) ? '/' : null;
  if (u.pathname !== null) u.pathname = u.pathname.replace(/[ "'<>`{}|^]/g, (c) => encodeURIComponent(c));
  if (parseQueryString && typeof u.query === 'string') u.query = querystring.parse(u.query);
  u.path = (u.pathname ?? '') + (u.search ?? '') || null;
  u.href = format(u);
  return u;
}

function format(obj, options) {
  if (typeof obj === 'string') obj = parse(obj);
  else if (typeof URL === 'function' && obj instanceof URL) {
    const u = new URL(obj.href);
    if (options && options.fragment === false) u.hash = '';
    if (options && options.search === false) u.search = '';
    if (options && options.auth === false) {
      u.username = '';
      u.password = '';
    }
    return u.href;
  }
  if (typeof obj !== 'object' || obj === null) throw new TypeError('The "urlObject" argument must be one of type object or string');
  let protocol = obj.protocol || '';
  if (protocol && !protocol.endsWith(':')) protocol += ':';
  let auth = obj.auth ? encodeURIComponent(obj.auth).replace(/%3A/i, ':') + '@' : '';
  let host = '';
  if (obj.host) host = auth + obj.host;
  else if (obj.hostname) host = auth + (obj.hostname.includes(':') && !obj.hostname.startsWith('[') ? `[${obj.hostname}]` : obj.hostname) + (obj.port ? ':' + obj.port : '');
  let pathname = obj.pathname || '';
  let search = obj.search || '';
  if (!search && obj.query && typeof obj.query === 'object' && Object.keys(obj.query).length) search = '?' + querystring.stringify(obj.query);
  else if (!search && typeof obj.query === 'string' && obj.query) search = '?' + obj.query;
  if (search && !search.startsWith('?')) search = '?' + search;
  let hash = obj.hash || '';
  if (hash && !hash.startsWith('#')) hash = '#' + hash;
  if (obj.slashes || (SLASHED.has(protocol) && (host || protocol === 'file:'))) {
    host = '//' + host;
    if (pathname && !pathname.startsWith('/')) pathname = '/' + pathname;
  }
  pathname = pathname.replace(/[?#]/g, encodeURIComponent);
  search = search.replace('#', '%23');
  return protocol + host + pathname + search + hash;
}

function resolve(from, to) {
  const base = new URL(from, 'resolve://');
  const resolved = new URL(to, base);
  if (resolved.protocol === 'resolve:') {
    const { pathname, search, hash } = resolved;
    return pathname + search + hash;
  }
  return resolved.href;
}

function unavailable(name) {
  return () => {
    throw new Error(`url.${name} is not available in the codestep sandbox (there is no file system)`);
  };
}

module.exports = {
  get URL() {
    return globalThis.URL;
  },
  get URLSearchParams() {
    return globalThis.URLSearchParams;
  },
  Url,
  parse,
  format,
  resolve,
  resolveObject: (from, to) => parse(resolve(from, to)),
  domainToASCII: (domain) => {
    try {
      return new URL(`http://${domain}`).hostname;
    } catch {
      return '';
    }
  },
  domainToUnicode: (domain) => String(domain),
  fileURLToPath: unavailable('fileURLToPath'),
  pathToFileURL: unavailable('pathToFileURL'),
  urlToHttpOptions: (url) => ({
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    hash: url.hash,
    search: url.search,
    pathname: url.pathname,
    path: `${url.pathname || ''}${url.search || ''}`,
    href: url.href,
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    ...(url.username || url.password ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
  }),
};
