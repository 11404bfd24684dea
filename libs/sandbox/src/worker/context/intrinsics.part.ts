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
  // Built by assignment to a null-prototype object (a dictionary): a `{ __proto__: null, ... }`
  // literal of this size costs several times as much in a new context.
  const k = Object.create(null) as Intrinsics;
  k.G = globalThis as unknown as Record<string, unknown>;
  k.reflectApply = reflectApply;
  k.reflectConstruct = Reflect.construct;
  k.defineProperty = Object.defineProperty;
  k.objectKeys = Object.keys;
  k.objectFreeze = Object.freeze;
  k.isArray = Array.isArray;
  k.jsonParse = JSON.parse;
  k.jsonStringify = JSON.stringify;
  k.StringCtor = StringCtor;
  k.NumberCtor = Number;
  k.ErrorCtor = Error;
  k.TypeErrorCtor = TypeError;
  k.RangeErrorCtor = RangeError;
  k.MapCtor = Map;
  k.WeakMapCtor = WeakMap;
  k.PromiseCtor = PromiseCtor;
  k.mathFloor = Math.floor;
  k.weakMapGet = WeakMap.prototype.get;
  k.weakMapSet = WeakMap.prototype.set;
  k.stringStartsWith = String.prototype.startsWith;
  k.promiseResolve = (value: unknown): Promise<unknown> => reflectApply(Promise.resolve, PromiseCtor, [value]) as Promise<unknown>;
  k.then = (p: Promise<unknown>, onOk: (v: unknown) => void, onErr: (e: unknown) => void): void => {
    void reflectApply(promiseThen, p, [onOk, onErr]);
  };
  k.get = <V>(m: Map<unknown, V>, key: unknown): V | undefined => reflectApply(mapGet, m, [key]) as V | undefined;
  k.put = (m: Map<unknown, unknown>, key: unknown, v: unknown): void => {
    reflectApply(mapSet, m, [key, v]);
  };
  k.has = (m: Map<unknown, unknown>, key: unknown): boolean => reflectApply(mapHas, m, [key]) as boolean;
  k.del = (m: Map<unknown, unknown>, key: unknown): boolean => reflectApply(mapDelete, m, [key]) as boolean;
  k.slice = (s: string, a: number, b?: number): string => reflectApply(stringSlice, s, b === undefined ? [a] : [a, b]) as string;
  k.join = (a: unknown[], sep: string): string => reflectApply(arrayJoin, a, [sep]) as string;
  k.ordinary = <T extends object>(dictionary: T): T => setPrototypeOf(dictionary, ObjectPrototype) as T;
  k.safeString = (value: unknown): string => {
    try {
      return StringCtor(value);
    } catch {
      return '[unprintable]';
    }
  };
  k.readProperty = (object: unknown, key: string): unknown => {
    try {
      return (object as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  };
  k.isObjectLike = (value: unknown): value is object => (typeof value === 'object' && value !== null) || typeof value === 'function';
  return k;
}
