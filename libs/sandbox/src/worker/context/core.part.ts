/**
 * The second part of the context bootstrap (see `../context-bootstrap.ts`), run from its source
 * text in each fresh context before any user code.
 *
 * It takes the host functions out of the bridge object, which it then drops, so that they live
 * in this closure only: every later part reaches the host through `call`, which passes on what
 * it is given (callers pass primitives), returns only a primitive, and swallows whatever is
 * thrown (a host function that overflows the stack would otherwise throw a host-realm
 * `RangeError` into the context). It adds to the intrinsics object the helpers every part
 * needs: platform errors, thrown-value descriptions, settling, the "execution ended" switch.
 */
import type { HostBridge, HostCallKind, HostCalls, SettleKind } from '../../bridge.protocol.ts';
import type { Intrinsics } from './intrinsics.part.ts';

/** A thrown value, as a plain description the host can read. */
export interface ThrownDescription {
  name: string;
  message: string;
  stack: string;
  code: string;
}

/** What every later part receives: a context-realm object, never seen by user code. */
export interface ContextCore extends Intrinsics {
  /** Calls a host function: a primitive (or undefined) out, never a throw; nothing once ended. */
  call: (kind: HostCallKind, a?: unknown, b?: unknown, c?: unknown) => unknown;
  externalLimit: number;
  maxResultChars: number;
  modulesJson: string;
  nodeVersion: string;
  isEnded: () => boolean;
  end: () => void;
  /** An error the platform raises in the context, recognised later by identity (not by shape). */
  platformError: (Ctor: ErrorConstructor, code: string, message: string) => Error;
  describeThrown: (thrown: unknown) => ThrownDescription;
  /** Settles with `payload` as JSON (`{}` when it cannot be serialised). */
  settle: (kind: SettleKind, payload: unknown) => void;
  /** Fails the execution with an exception thrown in a callback (`where` says which). */
  reportUncaught: (thrown: unknown, where: string) => void;
}

/** Runs in the context (from its source text); extends `intrinsics` into the core. */
export function corePart(hostBridge: HostBridge, intrinsics: Intrinsics): ContextCore {
  'use strict';
  const hostCalls = Object.create(null) as HostCalls;
  hostCalls.log = hostBridge.log;
  hostCalls.timerSet = hostBridge.timerSet;
  hostCalls.timerClear = hostBridge.timerClear;
  hostCalls.fetch = hostBridge.fetch;
  hostCalls.oauth = hostBridge.oauth;
  hostCalls.runState = hostBridge.runState;
  hostCalls.randomBytes = hostBridge.randomBytes;
  hostCalls.builtin = hostBridge.builtin;
  hostCalls.dns = hostBridge.dns;
  hostCalls.now = hostBridge.now;
  hostCalls.loadModule = hostBridge.loadModule;
  hostCalls.settle = hostBridge.settle;
  hostCalls.memoryExceeded = hostBridge.memoryExceeded;
  hostCalls.socket = hostBridge.socket;
  const core = intrinsics as ContextCore;
  core.externalLimit = typeof hostBridge.externalLimitBytes === 'number' ? hostBridge.externalLimitBytes : 0;
  core.maxResultChars = typeof hostBridge.maxResultChars === 'number' ? hostBridge.maxResultChars : 0;
  core.modulesJson = String(hostBridge.modulesJson);
  core.nodeVersion = String(hostBridge.nodeVersion);
  hostBridge = undefined as unknown as HostBridge;

  const { reflectApply, jsonStringify, weakMapGet, weakMapSet, defineProperty, readProperty, safeString, isObjectLike, slice } = core;
  const symbolToString = Symbol.prototype.toString;
  let ended = false;
  const call = (kind: HostCallKind, a?: unknown, b?: unknown, c?: unknown): unknown => {
    if (ended) return undefined;
    try {
      const result = (hostCalls[kind] as (x: unknown, y: unknown, z: unknown) => unknown)(a, b, c);
      const type = typeof result;
      return type === 'string' || type === 'number' || type === 'boolean' ? result : undefined;
    } catch {
      return undefined;
    }
  };
  const settle = (kind: SettleKind, payload: unknown): void => {
    let json: string;
    try {
      json = jsonStringify(payload) as string;
    } catch {
      json = '{}';
    }
    call('settle', kind, typeof json === 'string' ? json : '{}');
  };
  const platformErrors = new core.WeakMapCtor<object, string>();
  const describeThrown = (thrown: unknown): ThrownDescription => {
    if (isObjectLike(thrown)) {
      const platformCode = reflectApply(weakMapGet, platformErrors, [thrown]) as string | undefined;
      const name = readProperty(thrown, 'name');
      const message = readProperty(thrown, 'message');
      const stack = readProperty(thrown, 'stack');
      return {
        name: typeof name === 'string' ? name : 'Error',
        message: typeof message === 'string' ? message : safeString(thrown),
        stack: typeof stack === 'string' ? slice(stack, 0, 8192) : '',
        code: platformCode ?? '',
      };
    }
    return { name: 'Error', message: typeof thrown === 'symbol' ? (reflectApply(symbolToString, thrown, []) as string) : safeString(thrown), stack: '', code: '' };
  };
  core.call = call;
  core.isEnded = () => ended;
  core.end = () => {
    ended = true;
  };
  core.platformError = (Ctor: ErrorConstructor, code: string, message: string): Error => {
    const error = new Ctor(message);
    defineProperty(error, 'code', { value: code, enumerable: true, configurable: true, writable: true });
    reflectApply(weakMapSet, platformErrors, [error, code]);
    return error;
  };
  core.describeThrown = describeThrown;
  core.settle = settle;
  core.reportUncaught = (thrown: unknown, where: string): void => {
    const d = describeThrown(thrown);
    settle('uncaught', { name: d.name, message: d.message, stack: d.stack, code: d.code, where });
  };
  return core;
}
