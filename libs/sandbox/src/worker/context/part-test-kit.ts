/**
 * For the parts' unit tests: a fresh vm context (as the worker makes them) in which the parts
 * are declared from their source text exactly as in the bootstrap script, and a fake host
 * bridge whose functions record their calls and check that only primitives cross.
 */
import assert from 'node:assert/strict';
import vm from 'node:vm';
import type { HostBridge, HostCallKind, HostCalls } from '../../bridge.protocol.ts';
import { bridgePart } from './bridge.part.ts';
import { consolePart } from './console.part.ts';
import { corePart } from './core.part.ts';
import { entryPart } from './entry.part.ts';
import { inspectPart } from './inspect.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { memoryMethodsPart } from './memory-methods.part.ts';
import { memoryPart } from './memory.part.ts';
import { processPart } from './process.part.ts';
import { requirePart } from './require.part.ts';
import { timersPart } from './timers.part.ts';

const PARTS = [intrinsicsPart, corePart, inspectPart, consolePart, timersPart, memoryPart, memoryMethodsPart, requirePart, processPart, bridgePart, entryPart];

/** A recorded host call: its kind and arguments. */
export type HostCall = [HostCallKind, ...unknown[]];

/** A fake host: its bridge, the calls it got, and whether a non-primitive ever crossed. */
export interface FakeHost {
  bridge: HostBridge;
  calls: HostCall[];
  /** The calls of one kind, arguments only. */
  callsOf: (kind: HostCallKind) => unknown[][];
}

const isPrimitive = (value: unknown): boolean => value === null || (typeof value !== 'object' && typeof value !== 'function');

/** A fake host bridge; `answers` replaces what some host functions return (defaults: accept). */
export function fakeHost(answers: Partial<HostCalls> = {}, settings: Partial<Pick<HostBridge, 'externalLimitBytes' | 'maxResultChars' | 'modulesJson'>> = {}): FakeHost {
  const calls: HostCall[] = [];
  const defaults: HostCalls = {
    log: () => {},
    timerSet: () => true,
    timerClear: () => {},
    fetch: () => {},
    oauth: () => true,
    runState: () => true,
    randomBytes: () => 'AAAA',
    builtin: () => '{"ok":false,"error":{"code":"","message":"no host in this test"}}',
    dns: () => {},
    now: () => 1_000,
    loadModule: () => false,
    settle: () => {},
    memoryExceeded: () => {},
    socket: () => true,
  };
  const record = <K extends HostCallKind>(kind: K) =>
    ((...args: unknown[]) => {
      for (const arg of args) assert.ok(isPrimitive(arg), `a non-primitive crossed to the host in ${kind}`);
      let length = args.length;
      while (length > 0 && args[length - 1] === undefined) length--;
      calls.push([kind, ...args.slice(0, length)]);
      return ((answers[kind] ?? defaults[kind]) as (...a: unknown[]) => unknown)(...args);
    }) as HostCalls[K];
  const kinds = Object.keys(defaults) as HostCallKind[];
  const bridge = Object.fromEntries(kinds.map((kind) => [kind, record(kind)])) as unknown as HostBridge;
  bridge.externalLimitBytes = settings.externalLimitBytes ?? 1024 * 1024;
  bridge.maxResultChars = settings.maxResultChars ?? 4 * 1024 * 1024;
  bridge.modulesJson = settings.modulesJson ?? '["lodash"]';
  bridge.nodeVersion = '24.0.0';
  return { bridge, calls, callsOf: (kind) => calls.filter((call) => call[0] === kind).map((call) => call.slice(1)) };
}

/** A fresh context like the worker's (its global, and a function to run more code in it). */
export interface FreshContext {
  context: object;
  /** Runs source text in the context (an action would, in the worker). */
  run: (source: string) => unknown;
}

/**
 * Runs `body(hostBridge)` in a fresh context, from its source text, with the parts declared
 * as in the bootstrap: `body` may call them by name and reference nothing else from outside.
 */
export function runParts<T>(body: (hostBridge: HostBridge) => T, bridge: HostBridge): { result: T; fresh: FreshContext } {
  const context = vm.createContext(vm.constants.DONT_CONTEXTIFY, { codeGeneration: { strings: false, wasm: false } }) as object;
  const source = `(function (hostBridge) {\n'use strict';\n${PARTS.map((part) => part.toString()).join('\n')}\nreturn (${body.toString()})(hostBridge);\n})`;
  const fn = new vm.Script(source, { filename: 'codestep:bootstrap' }).runInContext(context) as (b: HostBridge) => T;
  const run = (code: string): unknown => new vm.Script(code).runInContext(context);
  return { result: fn(bridge), fresh: { context, run } };
}

/** A value of a context as plain data of this realm (for assertions). */
export function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Lets queued microtasks and immediates run. */
export function settleTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
