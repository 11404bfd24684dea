/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context: `setTimeout`/`setInterval`/`setImmediate`, their `clear*`,
 * `queueMicrotask`. The callbacks stay in the context; the host only keeps a timer id per
 * timer (`timerSet`, refused beyond the execution's cap) and dispatches `timer` with that id
 * when it fires. Handles are context objects with Node's `Timeout` methods.
 */
import type { ContextCore } from './core.part.ts';

/** What the timers part gives later parts (a context-realm object). */
export interface TimersPart {
  /** The global timer functions, by name. */
  globals: Record<string, (...args: never[]) => unknown>;
  /** Runs the callback of timer `id` (the host's `timer` dispatch). */
  fire: (id: number) => void;
}

/** Runs in the context (from its source text). */
export function timersPart(core: ContextCore): TimersPart {
  'use strict';
  const { call, reflectApply, NumberCtor, MapCtor, WeakMapCtor, TypeErrorCtor, RangeErrorCtor, mathFloor, weakMapGet, weakMapSet } = core;
  const { get, put, has, del, isObjectLike, platformError, promiseResolve, then, reportUncaught } = core;
  interface TimerEntry {
    fn: (...args: unknown[]) => unknown;
    args: unknown[];
    repeat: boolean;
  }
  const timers = new MapCtor<number, TimerEntry>();
  const handleIds = new WeakMapCtor<object, number>();
  let nextTimerId = 1;
  const toPrimitive = Symbol.toPrimitive;
  /** The handle class, made on the first timer (most executions set none). */
  let TimeoutHandle: (new (id: number) => Record<string | symbol, unknown>) | undefined;
  const handleClass = (): new (id: number) => Record<string | symbol, unknown> => {
    const Handle = function (this: Record<string | symbol, unknown>, id: number) {
      this.id = id;
    } as unknown as new (id: number) => Record<string | symbol, unknown>;
    const timerProto = Handle.prototype as Record<string | symbol, unknown>;
    timerProto.ref = function (this: unknown) {
      return this;
    };
    timerProto.unref = function (this: unknown) {
      return this;
    };
    timerProto.hasRef = () => true;
    timerProto.refresh = function (this: unknown) {
      return this;
    };
    timerProto.close = function (this: object) {
      clearTimer(this);
      return this;
    };
    timerProto[toPrimitive] = function (this: object) {
      return reflectApply(weakMapGet, handleIds, [this]) as number;
    };
    return Handle;
  };
  const toDelay = (ms: unknown): number => {
    const n = NumberCtor(ms);
    return n >= 1 && n <= 2147483647 ? mathFloor(n) : 1;
  };
  const addTimer = (fn: unknown, ms: number, repeat: boolean, args: unknown[], what: string): object => {
    if (typeof fn !== 'function') {
      throw platformError(TypeErrorCtor, 'ERR_INVALID_ARG_TYPE', `The "callback" argument of ${what} must be a function (code strings are not evaluated in actions)`);
    }
    const id = nextTimerId++;
    if (call('timerSet', id, ms, repeat) !== true) {
      throw platformError(RangeErrorCtor, 'TOO_MANY_TIMERS', `${what}: too many active timers in this execution`);
    }
    put(timers, id, { fn: fn as TimerEntry['fn'], args, repeat });
    TimeoutHandle ??= handleClass();
    const handle = new TimeoutHandle(id);
    reflectApply(weakMapSet, handleIds, [handle, id]);
    return handle;
  };
  const clearTimer = (handle: unknown): void => {
    let id: unknown;
    if (isObjectLike(handle)) id = reflectApply(weakMapGet, handleIds, [handle]);
    else if (typeof handle === 'number' || typeof handle === 'string') id = NumberCtor(handle);
    if (typeof id !== 'number' || !has(timers, id)) return;
    del(timers, id);
    call('timerClear', id);
  };
  const globals = {
    setTimeout: (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, toDelay(ms), false, args, 'setTimeout'),
    setInterval: (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, toDelay(ms), true, args, 'setInterval'),
    setImmediate: (fn: unknown, ...args: unknown[]) => addTimer(fn, -1, false, args, 'setImmediate'),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    clearImmediate: clearTimer,
    queueMicrotask: (fn: unknown) => {
      if (typeof fn !== 'function') throw platformError(TypeErrorCtor, 'ERR_INVALID_ARG_TYPE', 'queueMicrotask needs a function');
      then(
        promiseResolve(undefined),
        () => {
          try {
            (fn as () => void)();
          } catch (error) {
            reportUncaught(error, 'queueMicrotask callback');
          }
        },
        () => {},
      );
    },
  };
  const fire = (id: number): void => {
    const entry = get(timers, id);
    if (!entry) return;
    if (!entry.repeat) del(timers, id);
    try {
      reflectApply(entry.fn, undefined, entry.args);
    } catch (error) {
      reportUncaught(error, 'timer callback');
    }
  };
  const part = Object.create(null) as TimersPart;
  part.globals = globals;
  part.fire = fire;
  return part;
}
