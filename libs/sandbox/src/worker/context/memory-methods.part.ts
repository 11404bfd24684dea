/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context, after `memory.part.ts`: the built-in methods that allocate a new buffer
 * (`slice`, `map`, `filter`, `toReversed`, `toSorted`, `with` of typed arrays; `slice`,
 * `transfer`, `transferToFixedLength` of `ArrayBuffer`; `slice` of `SharedArrayBuffer`) charge
 * the execution's off-heap budget first. With `constructor` set to something that is not an
 * object they allocate with the intrinsic constructor, so wrapping the constructors is not
 * enough. `resize` and `grow` allocate nothing new: their buffer was charged its maximum.
 * A unit test lists every method of these built-ins, so one a new V8 adds cannot go unnoticed. And `FinalizationRegistry` callbacks, which run whenever the collector decides
 * (possibly while the worker runs a later execution), are disarmed once this execution ends.
 */
import type { ContextCore } from './core.part.ts';
import type { MemoryPart } from './memory.part.ts';

/** Runs in the context (from its source text). */
export function memoryMethodsPart(core: ContextCore, memory: MemoryPart): void {
  'use strict';
  const { G, reflectApply, reflectConstruct, objectKeys, defineProperty, isObjectLike, isEnded, reportUncaught } = core;
  const { charge, track, trackView, toIndex, probe, abByteLength, abMaxByteLength, sabByteLength, taByteLength, arrayBufferProto, sharedArrayBufferProto, typedArrayProto } = memory;
  const FinalizationRegistryCtor = FinalizationRegistry;
  /** Calls a buffer-making built-in after charging the bytes its result will hold. */
  const chargedCall = (original: unknown, bytes: number, self: unknown, args: unknown[]): unknown => {
    charge(bytes);
    const made = reflectApply(original as (...a: unknown[]) => unknown, self, args);
    return isObjectLike(made) ? track(made, bytes) : made;
  };
  /** The same for methods that return a typed array: the credit waits for its buffer. */
  const chargedViewCall = (original: unknown, bytes: number, self: unknown, args: unknown[]): unknown => {
    charge(bytes);
    const made = reflectApply(original as (...a: unknown[]) => unknown, self, args);
    return isObjectLike(made) ? trackView(made, bytes) : made;
  };
  /** Replaces built-in methods (those this V8 has) by the same-named methods of `methods`, non-enumerable as built-ins are. */
  const replaceMethods = (proto: object, methods: Record<string, unknown>): void => {
    const names = objectKeys(methods);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if (typeof (proto as Record<string, unknown>)[name] !== 'function') continue;
      defineProperty(proto, name, { value: methods[name], writable: true, configurable: true, enumerable: false });
    }
  };
  const selfBytes = (self: unknown): number => {
    const n = probe(taByteLength, self);
    return n > 0 ? n : 0;
  };
  const nonNegative = (n: number): number => (n > 0 ? n : 0);
  /** What `transfer(newLength)` allocates: `newLength` (default: the current length), or the maximum of a resizable buffer, which it keeps. */
  const transferBytes = (self: unknown, args: unknown[], keepsMaximum: boolean): number => {
    const length = args[0] === undefined ? nonNegative(probe(abByteLength, self)) : toIndex(args[0]);
    const maximum = keepsMaximum ? nonNegative(probe(abMaxByteLength, self)) : 0;
    return maximum > length ? maximum : length;
  };
  // Methods (not arrows): like the built-ins they replace, they are not constructors.
  const ta = typedArrayProto as Record<string, unknown>;
  const taSlice = ta.slice,
    taMap = ta.map,
    taFilter = ta.filter,
    taToReversed = ta.toReversed,
    taToSorted = ta.toSorted,
    taWith = ta.with;
  replaceMethods(typedArrayProto, {
    __proto__: null,
    slice(...args: unknown[]) {
      return chargedViewCall(taSlice, selfBytes(this), this, args);
    },
    map(...args: unknown[]) {
      return chargedViewCall(taMap, selfBytes(this), this, args);
    },
    filter(...args: unknown[]) {
      return chargedViewCall(taFilter, selfBytes(this), this, args);
    },
    toReversed(...args: unknown[]) {
      return chargedViewCall(taToReversed, selfBytes(this), this, args);
    },
    toSorted(...args: unknown[]) {
      return chargedViewCall(taToSorted, selfBytes(this), this, args);
    },
    with(...args: unknown[]) {
      return chargedViewCall(taWith, selfBytes(this), this, args);
    },
  } as Record<string, unknown>);
  const ab = arrayBufferProto as Record<string, unknown>;
  const abSlice = ab.slice,
    abTransfer = ab.transfer,
    abTransferToFixedLength = ab.transferToFixedLength;
  replaceMethods(arrayBufferProto, {
    __proto__: null,
    slice(...args: unknown[]) {
      return chargedCall(abSlice, nonNegative(probe(abByteLength, this)), this, args);
    },
    transfer(...args: unknown[]) {
      return chargedCall(abTransfer, transferBytes(this, args, true), this, args);
    },
    transferToFixedLength(...args: unknown[]) {
      return chargedCall(abTransferToFixedLength, transferBytes(this, args, false), this, args);
    },
  } as Record<string, unknown>);
  const sabSlice = (sharedArrayBufferProto as Record<string, unknown>).slice;
  replaceMethods(sharedArrayBufferProto, {
    __proto__: null,
    slice(...args: unknown[]) {
      return chargedCall(sabSlice, nonNegative(probe(sabByteLength, this)), this, args);
    },
  } as Record<string, unknown>);
  const guardedRegistry = new Proxy(FinalizationRegistryCtor, {
    __proto__: null,
    construct(target, args, newTarget) {
      const cleanup = args[0];
      const guarded =
        typeof cleanup === 'function'
          ? (held: unknown) => {
              if (isEnded()) return;
              try {
                (cleanup as (h: unknown) => void)(held);
              } catch (error) {
                reportUncaught(error, 'FinalizationRegistry callback');
              }
            }
          : cleanup;
      return reflectConstruct(target, [guarded], newTarget) as object;
    },
  } as ProxyHandler<FinalizationRegistryConstructor>);
  (FinalizationRegistryCtor.prototype as unknown as Record<string, unknown>).constructor = guardedRegistry;
  G.FinalizationRegistry = guardedRegistry;
}
