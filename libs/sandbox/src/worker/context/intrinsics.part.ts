/**
 * The first part of the context bootstrap (see `../context-bootstrap.ts`): it runs from its
 * source text inside each fresh context, before any other part and before any user code, and
 * captures the intrinsics the parts share, so that code replacing `JSON.stringify` or
 * `Map.prototype.get` later only affects itself.
 */

/** The shared intrinsics and the small helpers made of them (a context-realm object). */
export interface Intrinsics {
  G: Record<string, unknown>;
  reflectApply: typeof Reflect.apply;
  reflectConstruct: typeof Reflect.construct;
  defineProperty: typeof Object.defineProperty;
  objectKeys: typeof Object.keys;
  objectFreeze: typeof Object.freeze;
  isArray: typeof Array.isArray;
  jsonParse: typeof JSON.parse;
  jsonStringify: typeof JSON.stringify;
  StringCtor: StringConstructor;
  NumberCtor: NumberConstructor;
  ErrorCtor: ErrorConstructor;
  TypeErrorCtor: TypeErrorConstructor;
  RangeErrorCtor: RangeErrorConstructor;
  MapCtor: MapConstructor;
  WeakMapCtor: WeakMapConstructor;
  PromiseCtor: PromiseConstructor;
  mathFloor: typeof Math.floor;
  weakMapGet: WeakMap<object, unknown>['get'];
  weakMapSet: WeakMap<object, unknown>['set'];
  stringStartsWith: string['startsWith'];
  promiseResolve: (value: unknown) => Promise<unknown>;
  then: (p: Promise<unknown>, onOk: (v: unknown) => void, onErr: (e: unknown) => void) => void;
  get: <V>(m: Map<unknown, V>, k: unknown) => V | undefined;
  put: (m: Map<unknown, unknown>, k: unknown, v: unknown) => void;
  has: (m: Map<unknown, unknown>, k: unknown) => boolean;
  del: (m: Map<unknown, unknown>, k: unknown) => boolean;
  slice: (s: string, a: number, b?: number) => string;
  join: (a: unknown[], sep: string) => string;
  /**
   * Gives a `{ __proto__: null, ... }` literal its ordinary prototype. V8 builds a
   * null-prototype literal as a dictionary in one step, where an ordinary literal would create
   * one hidden class per property in this new context (tens of microseconds for `process`
   * alone, paid by every execution).
   */
  ordinary: <T extends object>(dictionary: T) => T;
  safeString: (value: unknown) => string;
  readProperty: (object: unknown, key: string) => unknown;
  isObjectLike: (value: unknown) => value is object;
}

/** Runs in the context (from its source text). */
export function intrinsicsPart(): Intrinsics {
  'use strict';
  const reflectApply = Reflect.apply;
  const StringCtor = String;
  const PromiseCtor = Promise;
  const setPrototypeOf = Object.setPrototypeOf;
  const ObjectPrototype = Object.prototype;
  const promiseThen = Promise.prototype.then;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapHas = Map.prototype.has;
  const mapDelete = Map.prototype.delete;
  const stringSlice = String.prototype.slice;
  const arrayJoin = Array.prototype.join;
  return {
    __proto__: null,
    G: globalThis as unknown as Record<string, unknown>,
    reflectApply,
    reflectConstruct: Reflect.construct,
    defineProperty: Object.defineProperty,
    objectKeys: Object.keys,
    objectFreeze: Object.freeze,
    isArray: Array.isArray,
    jsonParse: JSON.parse,
    jsonStringify: JSON.stringify,
    StringCtor,
    NumberCtor: Number,
    ErrorCtor: Error,
    TypeErrorCtor: TypeError,
    RangeErrorCtor: RangeError,
    MapCtor: Map,
    WeakMapCtor: WeakMap,
    PromiseCtor,
    mathFloor: Math.floor,
    weakMapGet: WeakMap.prototype.get,
    weakMapSet: WeakMap.prototype.set,
    stringStartsWith: String.prototype.startsWith,
    promiseResolve: (value: unknown): Promise<unknown> => reflectApply(Promise.resolve, PromiseCtor, [value]) as Promise<unknown>,
    then: (p: Promise<unknown>, onOk: (v: unknown) => void, onErr: (e: unknown) => void): void => {
      void reflectApply(promiseThen, p, [onOk, onErr]);
    },
    get: <V>(m: Map<unknown, V>, k: unknown): V | undefined => reflectApply(mapGet, m, [k]) as V | undefined,
    put: (m: Map<unknown, unknown>, k: unknown, v: unknown): void => {
      reflectApply(mapSet, m, [k, v]);
    },
    has: (m: Map<unknown, unknown>, k: unknown): boolean => reflectApply(mapHas, m, [k]) as boolean,
    del: (m: Map<unknown, unknown>, k: unknown): boolean => reflectApply(mapDelete, m, [k]) as boolean,
    slice: (s: string, a: number, b?: number): string => reflectApply(stringSlice, s, b === undefined ? [a] : [a, b]) as string,
    join: (a: unknown[], sep: string): string => reflectApply(arrayJoin, a, [sep]) as string,
    ordinary: <T extends object>(dictionary: T): T => setPrototypeOf(dictionary, ObjectPrototype) as T,
    safeString: (value: unknown): string => {
      try {
        return StringCtor(value);
      } catch {
        return '[unprintable]';
      }
    },
    readProperty: (object: unknown, key: string): unknown => {
      try {
        return (object as Record<string, unknown>)[key];
      } catch {
        return undefined;
      }
    },
    isObjectLike: (value: unknown): value is object => (typeof value === 'object' && value !== null) || typeof value === 'function',
  } as Intrinsics;
}
