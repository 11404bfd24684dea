'use strict';
// Node's `path`, POSIX flavour (what Node gives on Linux, HubSpot's platform). The working
// directory is the context's `process.cwd()` (`/action` in the sandbox). `path.win32` is the
// same object: Windows paths are not supported.

function cwd() {
  const p = globalThis.process;
  try {
    const dir = p && typeof p.cwd === 'function' ? p.cwd() : '/';
    return typeof dir === 'string' && dir[0] === '/' ? dir : '/';
  } catch {
    return '/';
  }
}

function assertPath(value, name = 'path') {
  if (typeof value !== 'string') {
    const error = new TypeError(`The "${name}" argument must be of type string. Received ${value === null ? 'null' : typeof value}`);
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
}

/** Resolves `.` and `..` segments; `allowAboveRoot` keeps leading `..` of a relative path. */
function normalizeString(path, allowAboveRoot) {
  const out = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (allowAboveRoot) out.push('..');
    } else out.push(segment);
  }
  return out.join('/');
}

function resolve(...args) {
  let resolved = '';
  let absolute = false;
  for (let i = args.length - 1; i >= -1 && !absolute; i--) {
    const path = i >= 0 ? args[i] : cwd();
    assertPath(path, `paths[${i}]`);
    if (path.length === 0) continue;
    resolved = `${path}/${resolved}`;
    absolute = path[0] === '/';
  }
  const normalized = normalizeString(resolved, !absolute);
  if (absolute) return `/${normalized}`;
  return normalized.length > 0 ? normalized : '.';
}

function normalize(path) {
  assertPath(path);
  if (path.length === 0) return '.';
  const absolute = path[0] === '/';
  const trailing = path[path.length - 1] === '/';
  let out = normalizeString(path, !absolute);
  if (out.length === 0) {
    if (absolute) return '/';
    return trailing ? './' : '.';
  }
  if (trailing) out += '/';
  return absolute ? `/${out}` : out;
}

function isAbsolute(path) {
  assertPath(path);
  return path.length > 0 && path[0] === '/';
}

function join(...args) {
  if (args.length === 0) return '.';
  const parts = [];
  for (const arg of args) {
    assertPath(arg);
    if (arg.length > 0) parts.push(arg);
  }
  return parts.length === 0 ? '.' : normalize(parts.join('/'));
}

function relative(from, to) {
  assertPath(from, 'from');
  assertPath(to, 'to');
  if (from === to) return '';
  const a = resolve(from);
  const b = resolve(to);
  if (a === b) return '';
  const fromParts = a === '/' ? [] : a.slice(1).split('/');
  const toParts = b === '/' ? [] : b.slice(1).split('/');
  let common = 0;
  while (common < fromParts.length && common < toParts.length && fromParts[common] === toParts[common]) common++;
  const up = fromParts.slice(common).map(() => '..');
  return [...up, ...toParts.slice(common)].join('/');
}

function dirname(path) {
  assertPath(path);
  if (path.length === 0) return '.';
  const absolute = path[0] === '/';
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 1; --i) {
    if (path[i] === '/') {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else matchedSlash = false;
  }
  if (end === -1) return absolute ? '/' : '.';
  if (absolute && end === 1) return '//';
  return path.slice(0, end);
}

function basename(path, suffix) {
  if (suffix !== undefined) assertPath(suffix, 'suffix');
  assertPath(path);
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  if (end === 0) return '';
  let start = path.lastIndexOf('/', end - 1) + 1;
  let base = path.slice(start, end);
  if (suffix !== undefined && suffix.length > 0 && suffix.length <= base.length && base !== suffix && base.endsWith(suffix)) base = base.slice(0, base.length - suffix.length);
  return base;
}

function extname(path) {
  assertPath(path);
  const base = basename(path);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || base === '..') return '';
  return base.slice(dot);
}

function parse(path) {
  assertPath(path);
  const root = path.length > 0 && path[0] === '/' ? '/' : '';
  if (path.length === 0) return { root: '', dir: '', base: '', ext: '', name: '' };
  const base = basename(path);
  const ext = extname(path);
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  const start = path.lastIndexOf('/', end - 1) + 1;
  const dir = start > 1 ? path.slice(0, start - 1) : root;
  const name = ext === '' ? base : base.slice(0, base.length - ext.length);
  return { root, dir, base, ext, name };
}

function format(object) {
  if (object === null || typeof object !== 'object') {
    const error = new TypeError(`The "pathObject" argument must be of type object. Received ${object === null ? 'null' : typeof object}`);
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
  const dir = object.dir || object.root;
  const base = object.base || `${object.name || ''}${object.ext ? (object.ext[0] === '.' ? '' : '.') + object.ext : ''}`;
  if (!dir) return base;
  return dir === object.root ? `${dir}${base}` : `${dir}/${base}`;
}

function matchesGlob() {
  const error = new Error('path.matchesGlob is not available in the codestep sandbox');
  error.code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
  throw error;
}

const path = { resolve, normalize, isAbsolute, join, relative, dirname, basename, extname, parse, format, matchesGlob, toNamespacedPath: (p) => p, sep: '/', delimiter: ':' };
path.posix = path;
path.win32 = path;
module.exports = path;
