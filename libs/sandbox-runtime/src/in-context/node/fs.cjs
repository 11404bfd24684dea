'use strict';
// Node's `fs` and `fs/promises` over a per-execution, in-memory `/tmp`: empty when the
// execution starts, gone when it ends, at most TMP_CAP_BYTES of file contents (which are
// ordinary buffers of the context, so they count against the execution's memory too). Any
// path outside /tmp fails with EACCES naming the rule. Sync, callback and promise forms of the
// common calls, `createReadStream`/`createWriteStream`; no file descriptors, links or watchers.

const { Buffer } = require('buffer');
const pathModule = require('path');

const TMP = '/tmp';
const TMP_CAP_BYTES = 32 * 1024 * 1024;
const MAX_ENTRIES = 10000;
const RULE = 'actions may only use files under /tmp, which is in memory, empty when each execution starts and at most 32 MiB';

const entries = new Map([[TMP, { type: 'dir', mode: 0o40777, times: Date.now() }]]);
let usedBytes = 0;

function fsError(code, syscall, path, detail) {
  const messages = { ENOENT: 'no such file or directory', EEXIST: 'file already exists', ENOTDIR: 'not a directory', EISDIR: 'illegal operation on a directory', ENOTEMPTY: 'directory not empty', EACCES: 'permission denied', ENOSPC: 'no space left on device', EMFILE: 'too many open files' };
  const error = new Error(`${code}: ${messages[code] || 'error'}, ${syscall} '${path}'${detail ? ` (${detail})` : ''}`);
  error.code = code;
  error.syscall = syscall;
  error.path = path;
  error.errno = { ENOENT: -2, EEXIST: -17, ENOTDIR: -20, EISDIR: -21, ENOTEMPTY: -39, EACCES: -13, ENOSPC: -28, EMFILE: -24 }[code];
  return error;
}

/** The absolute path of `p` inside /tmp, or EACCES. */
function resolvePath(p, syscall) {
  let text = p;
  if (Buffer.isBuffer(p)) text = p.toString('utf8');
  else if (p && typeof p === 'object' && typeof p.href === 'string') {
    if (p.protocol !== 'file:') throw fsError('EACCES', syscall, String(p.href), 'only file: URLs');
    text = decodeURIComponent(p.pathname);
  }
  if (typeof text !== 'string') {
    const error = new TypeError(`The "path" argument must be of type string or an instance of Buffer or URL. Received ${p === null ? 'null' : typeof p}`);
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
  const full = pathModule.resolve(TMP, text);
  if (full !== TMP && !full.startsWith(`${TMP}/`)) throw fsError('EACCES', syscall, text, RULE);
  return full;
}

function parentOf(full, syscall, shown) {
  const parent = entries.get(pathModule.dirname(full));
  if (parent === undefined) throw fsError('ENOENT', syscall, shown);
  if (parent.type !== 'dir') throw fsError('ENOTDIR', syscall, shown);
}

function fileOf(p, syscall) {
  const full = resolvePath(p, syscall);
  const entry = entries.get(full);
  if (entry === undefined) throw fsError('ENOENT', syscall, String(p));
  if (entry.type === 'dir') throw fsError('EISDIR', syscall, String(p));
  return entry;
}

const encodingOf = (options) => (typeof options === 'string' ? options : options && options.encoding) || null;

function dataBytes(data, options) {
  if (typeof data === 'string') return Buffer.from(data, encodingOf(options) || 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const error = new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
  error.code = 'ERR_INVALID_ARG_TYPE';
  throw error;
}

function store(full, shown, bytes, append) {
  const existing = entries.get(full);
  if (existing !== undefined && existing.type === 'dir') throw fsError('EISDIR', 'open', shown);
  if (existing === undefined) {
    parentOf(full, 'open', shown);
    if (entries.size >= MAX_ENTRIES) throw fsError('ENOSPC', 'open', shown, `more than ${MAX_ENTRIES} files in /tmp`);
  }
  const before = existing === undefined ? 0 : existing.data.length;
  const next = append && existing !== undefined ? before + bytes.length : bytes.length;
  if (usedBytes - before + next > TMP_CAP_BYTES) throw fsError('ENOSPC', 'write', shown, RULE);
  const data = append && existing !== undefined ? Buffer.concat([existing.data, bytes]) : Buffer.from(bytes);
  usedBytes += data.length - before;
  entries.set(full, { type: 'file', mode: 0o100666, data, times: Date.now(), birth: existing ? existing.birth : Date.now() });
}

class Stats {
  constructor(entry) {
    const t = entry.times;
    Object.assign(this, { dev: 1, mode: entry.mode, nlink: 1, uid: 1000, gid: 1000, rdev: 0, blksize: 4096, ino: 0, size: entry.type === 'file' ? entry.data.length : 4096, blocks: 0 });
    Object.assign(this, { atimeMs: t, mtimeMs: t, ctimeMs: t, birthtimeMs: entry.birth || t, atime: new Date(t), mtime: new Date(t), ctime: new Date(t), birthtime: new Date(entry.birth || t) });
    this._dir = entry.type === 'dir';
  }
  isFile() {
    return !this._dir;
  }
  isDirectory() {
    return this._dir;
  }
  isSymbolicLink() {
    return false;
  }
  isFIFO() {
    return false;
  }
  isSocket() {
    return false;
  }
  isBlockDevice() {
    return false;
  }
  isCharacterDevice() {
    return false;
  }
}

class Dirent {
  constructor(name, dir, parentPath) {
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this._dir = dir;
  }
  isFile() {
    return !this._dir;
  }
  isDirectory() {
    return this._dir;
  }
  isSymbolicLink() {
    return false;
  }
}

const children = (full) => [...entries.keys()].filter((k) => k !== full && pathModule.dirname(k) === full);

const sync = {
  existsSync(p) {
    try {
      return entries.has(resolvePath(p, 'access'));
    } catch {
      return false;
    }
  },
  accessSync(p) {
    if (!entries.has(resolvePath(p, 'access'))) throw fsError('ENOENT', 'access', String(p));
  },
  statSync(p, options) {
    const full = resolvePath(p, 'stat');
    const entry = entries.get(full);
    if (entry === undefined) {
      if (options && options.throwIfNoEntry === false) return undefined;
      throw fsError('ENOENT', 'stat', String(p));
    }
    return new Stats(entry);
  },
  readFileSync(p, options) {
    const entry = fileOf(p, 'open');
    const encoding = encodingOf(options);
    return encoding ? entry.data.toString(encoding) : Buffer.from(entry.data);
  },
  writeFileSync(p, data, options) {
    const full = resolvePath(p, 'open');
    const flag = options && typeof options === 'object' ? options.flag : undefined;
    if (flag === 'wx' && entries.has(full)) throw fsError('EEXIST', 'open', String(p));
    store(full, String(p), dataBytes(data, options), flag === 'a' || flag === 'a+');
  },
  appendFileSync(p, data, options) {
    store(resolvePath(p, 'open'), String(p), dataBytes(data, options), true);
  },
  mkdirSync(p, options) {
    const full = resolvePath(p, 'mkdir');
    const recursive = options && typeof options === 'object' && options.recursive === true;
    if (entries.has(full)) {
      if (recursive && entries.get(full).type === 'dir') return undefined;
      throw fsError('EEXIST', 'mkdir', String(p));
    }
    if (recursive) {
      let first;
      const missing = [];
      for (let dir = full; !entries.has(dir); dir = pathModule.dirname(dir)) missing.unshift(dir);
      for (const dir of missing) {
        parentOf(dir, 'mkdir', String(p));
        entries.set(dir, { type: 'dir', mode: 0o40777, times: Date.now() });
        first ??= dir;
      }
      return first;
    }
    parentOf(full, 'mkdir', String(p));
    entries.set(full, { type: 'dir', mode: 0o40777, times: Date.now() });
    return undefined;
  },
  mkdtempSync(prefix) {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(6));
    const name = `${prefix}${Array.from(bytes, (b) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 62]).join('')}`;
    sync.mkdirSync(name);
    return resolvePath(name, 'mkdtemp');
  },
  readdirSync(p, options) {
    const full = resolvePath(p, 'scandir');
    const entry = entries.get(full);
    if (entry === undefined) throw fsError('ENOENT', 'scandir', String(p));
    if (entry.type !== 'dir') throw fsError('ENOTDIR', 'scandir', String(p));
    const names = children(full).map((k) => pathModule.basename(k)).sort();
    if (options && typeof options === 'object' && options.withFileTypes) return names.map((name) => new Dirent(name, entries.get(`${full}/${name}`).type === 'dir', full));
    return names;
  },
  unlinkSync(p) {
    const full = resolvePath(p, 'unlink');
    const entry = fileOf(p, 'unlink');
    usedBytes -= entry.data.length;
    entries.delete(full);
  },
  rmdirSync(p, options) {
    sync.rmSync(p, { recursive: options && options.recursive, dirOnly: true });
  },
  rmSync(p, options = {}) {
    const full = resolvePath(p, 'rm');
    if (full === TMP) throw fsError('EACCES', 'rm', String(p), '/tmp itself cannot be removed');
    const entry = entries.get(full);
    if (entry === undefined) {
      if (options.force) return;
      throw fsError('ENOENT', 'rm', String(p));
    }
    if (entry.type === 'dir') {
      const inside = [...entries.keys()].filter((k) => k.startsWith(`${full}/`));
      if (inside.length > 0 && !options.recursive) throw fsError(options.dirOnly ? 'ENOTEMPTY' : 'EISDIR', 'rm', String(p));
      if (!options.recursive && !options.dirOnly) throw fsError('EISDIR', 'rm', String(p));
      for (const k of inside) {
        const e = entries.get(k);
        if (e.type === 'file') usedBytes -= e.data.length;
        entries.delete(k);
      }
    } else {
      if (options.dirOnly) throw fsError('ENOTDIR', 'rmdir', String(p));
      usedBytes -= entry.data.length;
    }
    entries.delete(full);
  },
  renameSync(from, to) {
    const a = resolvePath(from, 'rename');
    const b = resolvePath(to, 'rename');
    const entry = entries.get(a);
    if (entry === undefined) throw fsError('ENOENT', 'rename', String(from));
    parentOf(b, 'rename', String(to));
    const old = entries.get(b);
    if (old && old.type === 'file') usedBytes -= old.data.length;
    for (const k of [...entries.keys()]) {
      if (k === a || k.startsWith(`${a}/`)) {
        const moved = entries.get(k);
        entries.delete(k);
        entries.set(b + k.slice(a.length), moved);
      }
    }
  },
  copyFileSync(from, to) {
    store(resolvePath(to, 'copyfile'), String(to), fileOf(from, 'copyfile').data, false);
  },
  realpathSync(p) {
    const full = resolvePath(p, 'realpath');
    if (!entries.has(full)) throw fsError('ENOENT', 'realpath', String(p));
    return full;
  },
  truncateSync(p, len = 0) {
    const entry = fileOf(p, 'open');
    const data = Buffer.alloc(len);
    entry.data.copy(data, 0, 0, Math.min(len, entry.data.length));
    store(resolvePath(p, 'open'), String(p), data, false);
  },
  chmodSync(p) {
    if (!entries.has(resolvePath(p, 'chmod'))) throw fsError('ENOENT', 'chmod', String(p));
  },
  utimesSync(p) {
    const entry = entries.get(resolvePath(p, 'utime'));
    if (entry === undefined) throw fsError('ENOENT', 'utime', String(p));
    entry.times = Date.now();
  },
};
sync.lstatSync = sync.statSync;
sync.realpathSync.native = sync.realpathSync;

const fs = { ...sync, constants: { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024, COPYFILE_EXCL: 1 }, Stats, Dirent };
Object.assign(fs, fs.constants);
const promises = { constants: fs.constants };
for (const [name, fn] of Object.entries(sync)) {
  if (name === 'existsSync') continue;
  const base = name.slice(0, -4);
  fs[base] = (...args) => {
    const callback = args.pop();
    if (typeof callback !== 'function') {
      const error = new TypeError('The "cb" argument must be of type function');
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    let result;
    let failure = null;
    try {
      result = fn(...args);
    } catch (error) {
      failure = error;
    }
    queueMicrotask(() => (failure ? callback(failure) : callback(null, result)));
  };
  promises[base] = async (...args) => fn(...args);
}
fs.exists = (p, callback) => queueMicrotask(() => callback(sync.existsSync(p)));
promises.rm = async (p, options) => sync.rmSync(p, options);

fs.createWriteStream = (p, options) => {
  const { Writable } = require('stream');
  const full = resolvePath(p, 'open');
  const append = options && typeof options === 'object' && options.flags === 'a';
  store(full, String(p), Buffer.alloc(0), append);
  const stream = new Writable({
    write(chunk, encoding, done) {
      try {
        store(full, String(p), typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, true);
        stream.bytesWritten += chunk.length;
        done();
      } catch (error) {
        done(error);
      }
    },
  });
  stream.path = p;
  stream.bytesWritten = 0;
  queueMicrotask(() => stream.emit('open', 1));
  stream.on('finish', () => stream.emit('close'));
  return stream;
};
fs.createReadStream = (p, options) => {
  const { Readable } = require('stream');
  const encoding = encodingOf(options);
  const stream = new Readable({
    encoding: encoding || undefined,
    read() {
      try {
        const data = fileOf(p, 'open').data;
        const start = (options && options.start) || 0;
        const end = options && typeof options.end === 'number' ? options.end + 1 : data.length;
        this.push(Buffer.from(data.subarray(start, end)));
        this.push(null);
      } catch (error) {
        this.destroy(error);
      }
    },
  });
  stream.path = p;
  return stream;
};
fs.promises = promises;
module.exports = fs;
