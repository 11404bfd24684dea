/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context: a `process` object of the context that looks like Node's to libraries and
 * holds nothing of the worker's. `process.env` starts empty and receives the execution's
 * selected secrets only (the entry part fills it before the action runs); `exit`, `abort`,
 * `kill` and `chdir` throw; `stdout`/`stderr` write to the logs; `nextTick` is a microtask.
 */
import type { ConsolePart } from './console.part.ts';
import type { ContextCore } from './core.part.ts';
import type { MemoryPart } from './memory.part.ts';

/** What the process part gives later parts (a context-realm object). */
export interface ProcessPart {
  process: Record<string, unknown>;
  /** `process.env`, filled with the secrets when the execution starts. */
  env: Record<string, string>;
}

/** Runs in the context (from its source text). */
export function processPart(core: ContextCore, logging: ConsolePart, memory: MemoryPart): ProcessPart {
  'use strict';
  const { call, reflectApply, ErrorCtor, TypeErrorCtor, NumberCtor, mathFloor, isArray, ordinary, safeString, readProperty, isObjectLike } = core;
  const { platformError, promiseResolve, then, reportUncaught, nodeVersion } = core;
  const emit = logging.emit;
  const usedBytes = memory.usedBytes;
  const BigIntCtor = BigInt;
  const noop = function (this: unknown) {
    return this;
  };
  const env: Record<string, string> = {};
  const hrtime = (previous?: unknown): [number, number] => {
    const ms = call('now') as number;
    let seconds = mathFloor(ms / 1000);
    let nanos = mathFloor((ms - seconds * 1000) * 1e6);
    if (isArray(previous) && previous.length === 2) {
      seconds -= NumberCtor(previous[0]);
      nanos -= NumberCtor(previous[1]);
      if (nanos < 0) {
        seconds -= 1;
        nanos += 1e9;
      }
    }
    return [seconds, nanos];
  };
  (hrtime as unknown as Record<string, unknown>).bigint = () => BigIntCtor(mathFloor((call('now') as number) * 1e6));
  const startedAt = call('now') as number;
  const nextTick = (fn: unknown, ...args: unknown[]): void => {
    if (typeof fn !== 'function') throw platformError(TypeErrorCtor, 'ERR_INVALID_ARG_TYPE', 'process.nextTick needs a function');
    then(
      promiseResolve(undefined),
      () => {
        try {
          reflectApply(fn as (...a: unknown[]) => unknown, undefined, args);
        } catch (error) {
          reportUncaught(error, 'process.nextTick callback');
        }
      },
      () => {},
    );
  };
  const processObject = ordinary({
    __proto__: null,
    env,
    argv: ['/usr/local/bin/node', '/action/index.js'],
    argv0: 'node',
    execArgv: [] as string[],
    execPath: '/usr/local/bin/node',
    version: `v${nodeVersion}`,
    versions: { node: nodeVersion },
    release: { name: 'node' },
    platform: 'linux',
    arch: 'x64',
    pid: 1,
    ppid: 0,
    title: 'node',
    exitCode: undefined as number | undefined,
    features: {},
    config: { variables: {} },
    stdout: { write: (chunk: unknown) => (emit('log', [safeString(chunk)]), true), isTTY: false },
    stderr: { write: (chunk: unknown) => (emit('error', [safeString(chunk)]), true), isTTY: false },
    cwd: () => '/action',
    chdir: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.chdir() is not available in actions');
    },
    umask: () => 0o22,
    uptime: () => ((call('now') as number) - startedAt) / 1000,
    hrtime,
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: usedBytes(), arrayBuffers: usedBytes() }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    exit: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.exit() is not available in actions: return from main (or call callback) instead');
    },
    abort: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.abort() is not available in actions');
    },
    kill: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.kill() is not available in actions');
    },
    nextTick,
    emitWarning: (warning: unknown) => emit('warn', [`Warning: ${isObjectLike(warning) ? safeString(readProperty(warning, 'message')) : safeString(warning)}`]),
    on: noop,
    once: noop,
    off: noop,
    addListener: noop,
    removeListener: noop,
    removeAllListeners: noop,
    prependListener: noop,
    setMaxListeners: noop,
    emit: () => false,
    listeners: () => [],
    listenerCount: () => 0,
  });
  const part = Object.create(null) as ProcessPart;
  part.process = processObject;
  part.env = env;
  return part;
}
