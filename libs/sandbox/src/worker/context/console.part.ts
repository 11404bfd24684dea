/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context: the `console` object. Every method formats its arguments inside the
 * context and hands the host one string per line (`log(level, text)`); the host applies the
 * per-line and per-execution caps. Nothing a method does can throw into the caller.
 */
import type { ContextCore } from './core.part.ts';
import type { Formatter } from './inspect.part.ts';

/** What the console part gives later parts (a context-realm object). */
export interface ConsolePart {
  /** The context's `console` (an ordinary object of the context). */
  console: object;
  /** Formats `args` and logs the line at `level`. */
  emit: (level: string, args: unknown[]) => void;
}

/** Runs in the context (from its source text). */
export function consolePart(core: ContextCore, formatter: Formatter): ConsolePart {
  'use strict';
  const { call, reflectApply, ErrorCtor, MapCtor, get, put, del, slice, safeString, ordinary } = core;
  const { inspect, format } = formatter;
  const errorCaptureStackTrace = (Error as unknown as { captureStackTrace?: unknown }).captureStackTrace;
  const emit = (level: string, args: unknown[]): void => {
    let text: string;
    try {
      text = format(args);
    } catch {
      text = '[unprintable]';
    }
    call('log', level, typeof text === 'string' ? text : '[unprintable]');
  };
  const counters = new MapCtor<string, number>();
  const timersByLabel = new MapCtor<string, number>();
  const consoleObject = ordinary({
    __proto__: null,
    log: (...args: unknown[]) => emit('log', args),
    info: (...args: unknown[]) => emit('info', args),
    warn: (...args: unknown[]) => emit('warn', args),
    error: (...args: unknown[]) => emit('error', args),
    debug: (...args: unknown[]) => emit('debug', args),
    trace: (...args: unknown[]) => {
      const holder: { stack?: string } = {};
      if (typeof errorCaptureStackTrace === 'function') reflectApply(errorCaptureStackTrace, ErrorCtor, [holder]);
      emit('debug', [`Trace: ${format(args)}\n${slice(safeString(holder.stack), 6)}`]);
    },
    dir: (value: unknown) => emit('log', [inspect(value, 0, [], true)]),
    table: (...args: unknown[]) => emit('log', args),
    assert: (condition: unknown, ...args: unknown[]) => {
      if (!condition) emit('error', args.length ? ['Assertion failed:', ...args] : ['Assertion failed']);
    },
    count: (label: unknown = 'default') => {
      const key = safeString(label);
      const n = (get(counters, key) ?? 0) + 1;
      put(counters, key, n);
      emit('info', [`${key}: ${n}`]);
    },
    countReset: (label: unknown = 'default') => {
      del(counters, safeString(label));
    },
    time: (label: unknown = 'default') => {
      put(timersByLabel, safeString(label), call('now') as number);
    },
    timeEnd: (label: unknown = 'default') => {
      const key = safeString(label);
      const started = get(timersByLabel, key);
      if (started === undefined) return;
      del(timersByLabel, key);
      emit('info', [`${key}: ${((call('now') as number) - started).toFixed(3)}ms`]);
    },
    timeLog: (label: unknown = 'default', ...args: unknown[]) => {
      const key = safeString(label);
      const started = get(timersByLabel, key);
      if (started !== undefined) emit('info', [`${key}: ${((call('now') as number) - started).toFixed(3)}ms`, ...args]);
    },
    group: (...args: unknown[]) => {
      if (args.length) emit('log', args);
    },
    groupCollapsed: (...args: unknown[]) => {
      if (args.length) emit('log', args);
    },
    groupEnd: () => {},
  });
  const part = Object.create(null) as ConsolePart;
  part.console = consoleObject;
  part.emit = emit;
  return part;
}
