/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context, after `memory.part.ts`: the built-in methods that allocate a new buffer
 * (`slice`, `map`, `filter`, `toReversed`, `toSorted`, `with` of typed arrays; `slice`,
 * `transfer`, `transferToFixedLength` of `ArrayBuffer`) charge the execution's off-heap budget
 * first. And `FinalizationRegistry` callbacks, which run whenever the collector decides
 * (possibly while the worker runs a later execution), are disarmed once this execution ends.
 */
import type { ContextCore } from './core.part.ts';
import type { MemoryPart } from './memory.part.ts';

/** Runs in the context (from its source text). */
export function memoryMethodsPart(core: ContextCore, memory: MemoryPart): void {
  'use strict';
  const { G, reflectApply, reflectConstruct, objectKeys, defineProperty, isObjectLike, isEnded, reportUncaught } = core;
  const { charge, track, toIndex, probe, abByteLength, taByteLength, arrayBufferProto, typedArrayProto } = memory;
  const FinalizationRegistryCtor = FinalizationRegistry;
  /** Calls a buffer-making built-in after charging the bytes its result will hold. */
  const chargedCall = (original: unknown, bytes: number, self: unknown, args: unknown[]): unknown => {
    charge(bytes);
    const made = reflectApply(original as (...a: unknown[]) => unknown, self, args);
    return isObjectLike(made) ? track(made, bytes) : made;
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
  const argBytes = (args: unknown[]): number => (args[0] === undefined ? 0 : toIndex(args[0]));
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
      return chargedCall(taSlice, selfBytes(this), this, args);
    },
    map(...args: unknown[]) {
      return chargedCall(taMap, selfBytes(this), this, args);
    },
    filter(...args: unknown[]) {
      return chargedCall(taFilter, selfBytes(this), this, args);
    },
    toReversed(...args: unknown[]) {
      return chargedCall(taToReversed, selfBytes(this), this, args);
    },
    toSorted(...args: unknown[]) {
      return chargedCall(taToSorted, selfBytes(this), this, args);
    },
    with(...args: unknown[]) {
      return chargedCall(taWith, selfBytes(this), this, args);
    },
  } as Record<string, unknown>);
  const ab = arrayBufferProto as Record<string, unknown>;
  const abSlice = ab.slice,
    abTransfer = ab.transfer,
    abTransferToFixedLength = ab.transferToFixedLength;
  replaceMethods(arrayBufferProto, {
    __proto__: null,
    slice(...args: unknown[]) {
      const n = probe(abByteLength, this);
      return chargedCall(abSlice, n > 0 ? n : 0, this, args);
    },
    transfer(...args: unknown[]) {
      return chargedCall(abTransfer, argBytes(args), this, args);
    },
    transferToFixedLength(...args: unknown[]) {
      return chargedCall(abTransferToFixedLength, argBytes(args), this, args);
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
