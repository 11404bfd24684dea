/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context: accounting of memory allocated outside the V8 heap. The worker's heap
 * limit does not count array buffers, so every constructor that can allocate one
 * (`ArrayBuffer`, `SharedArrayBuffer`, the typed arrays) is replaced by a Proxy that charges the
 * execution's budget first (`externalLimit`; past it: `memoryExceeded` to the host and a
 * `MEMORY_LIMIT` RangeError). Frees are credited back when the garbage collector reclaims the
 * buffer itself, never a view of it (a view can be dropped while its buffer is kept). The
 * methods that allocate are wrapped by `memory-methods.part.ts`. The host's memory backstop
 * (`host/memory-backstop.ts`) holds even if this accounting is ever bypassed.
 */
import type { ContextCore } from './core.part.ts';

type AnyConstructor = new (...args: unknown[]) => object;

/** What the memory part gives later parts (a context-realm object). */
export interface MemoryPart {
  /** Charges `bytes` against the budget; throws a platform `MEMORY_LIMIT` error past it. */
  charge: (bytes: number) => void;
  /** Credits `bytes` back once `object` is collected. */
  track: <T extends object>(object: T, bytes: number) => T;
  /** Credits `bytes` back once the buffer of the typed array `view` is collected; returns `view`. */
  trackView: <T extends object>(view: T, bytes: number) => T;
  /** A non-negative integer from any value (0 for anything else). */
  toIndex: (value: unknown) => number;
  /** Calls a built-in getter on `value`; -1 when it throws (not that kind of object). */
  probe: (getter: () => number, value: unknown) => number;
  abByteLength: () => number;
  abMaxByteLength: () => number;
  sabByteLength: () => number;
  taByteLength: () => number;
  /** `ArrayBuffer.prototype`, `SharedArrayBuffer.prototype` and `%TypedArray%.prototype`, as they were before user code ran. */
  arrayBufferProto: object;
  sharedArrayBufferProto: object;
  typedArrayProto: object;
  /** The bytes charged and not yet credited back. */
  usedBytes: () => number;
}

/** Runs in the context (from its source text). */
export function memoryPart(core: ContextCore): MemoryPart {
  'use strict';
  const { G, call, reflectApply, reflectConstruct, NumberCtor, MapCtor, RangeErrorCtor, mathFloor, get, put, platformError, isObjectLike, readProperty } = core;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const arrayFrom = Array.from;
  const ProxyCtor = Proxy;
  const externalLimit = core.externalLimit;
  let externalBytes = 0;
  const credit = new FinalizationRegistry<number>((bytes) => {
    externalBytes -= bytes;
  });
  const charge = (bytes: number): void => {
    if (!(bytes > 0)) return;
    if (externalLimit > 0 && externalBytes + bytes > externalLimit) {
      call('memoryExceeded');
      throw platformError(RangeErrorCtor, 'MEMORY_LIMIT', 'Array buffer allocation failed: the execution would exceed its memory limit');
    }
    externalBytes += bytes;
  };
  const track = <T extends object>(object: T, bytes: number): T => {
    if (bytes > 0) credit.register(object, bytes);
    return object;
  };
  const toIndex = (value: unknown): number => {
    const n = NumberCtor(value);
    return n > 0 ? mathFloor(n) : 0;
  };
  const ArrayBufferProto = ArrayBuffer.prototype;
  const abByteLength = (getOwnPropertyDescriptor(ArrayBufferProto, 'byteLength') as PropertyDescriptor).get as () => number;
  const abMaxByteLength = (getOwnPropertyDescriptor(ArrayBufferProto, 'maxByteLength') as PropertyDescriptor).get as () => number;
  const SharedArrayBufferProto = SharedArrayBuffer.prototype;
  const sabByteLength = (getOwnPropertyDescriptor(SharedArrayBufferProto, 'byteLength') as PropertyDescriptor).get as () => number;
  const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
  const taLength = (getOwnPropertyDescriptor(TypedArrayProto, 'length') as PropertyDescriptor).get as () => number;
  const taByteLength = (getOwnPropertyDescriptor(TypedArrayProto, 'byteLength') as PropertyDescriptor).get as () => number;
  const taBuffer = (getOwnPropertyDescriptor(TypedArrayProto, 'buffer') as PropertyDescriptor).get as () => object;
  const probe = (read: () => number, value: unknown): number => {
    try {
      return reflectApply(read, value, []) as number;
    } catch {
      return -1;
    }
  };
  const trackView = <T extends object>(view: T, bytes: number): T => {
    if (!(bytes > 0)) return view;
    let buffer: object = view;
    try {
      buffer = reflectApply(taBuffer, view, []) as object;
    } catch {
      // not a typed array: the object itself holds the memory
    }
    track(buffer, bytes);
    return view;
  };
  // Proxy handlers have a null prototype, so no trap can be added through Object.prototype.
  const bufferHandler: ProxyHandler<AnyConstructor> = {
    __proto__: null,
    construct(target, args, newTarget) {
      const length = toIndex(args[0]);
      const options = args[1];
      const max = isObjectLike(options) ? toIndex(readProperty(options, 'maxByteLength')) : 0;
      const bytes = max > length ? max : length;
      charge(bytes);
      const made = reflectConstruct(target, max > 0 ? [length, { maxByteLength: max }] : [length], newTarget) as object;
      return track(made, bytes);
    },
  } as ProxyHandler<AnyConstructor>;
  /** Element size of each typed-array constructor (the handler below is shared by all of them). */
  const elementSizes = new MapCtor<unknown, number>();
  const typedArrayHandler: ProxyHandler<AnyConstructor> = {
    __proto__: null,
    construct(target, args, newTarget) {
      const size = get(elementSizes, target) ?? 8;
      const first = args[0];
      if (!isObjectLike(first)) {
        const length = toIndex(first);
        charge(length * size);
        return trackView(reflectConstruct(target, [length], newTarget) as object, length * size);
      }
      if (probe(abByteLength, first) >= 0 || probe(sabByteLength, first) >= 0) {
        return reflectConstruct(target, args, newTarget) as object; // a view: no new memory
      }
      const viewLength = probe(taLength, first);
      if (viewLength >= 0) {
        charge(viewLength * size);
        return trackView(reflectConstruct(target, [first], newTarget) as object, viewLength * size);
      }
      // Array-likes and iterables are materialised on the heap first (where the heap limit
      // applies), so a lying `length` cannot size the buffer.
      const items = arrayFrom(first as ArrayLike<unknown>);
      charge(items.length * size);
      return trackView(reflectConstruct(target, [items], newTarget) as object, items.length * size);
    },
  } as ProxyHandler<AnyConstructor>;
  const wrapConstructor = (name: string, Target: AnyConstructor, handler: ProxyHandler<AnyConstructor>): void => {
    const wrapped = new ProxyCtor(Target, handler);
    (Target.prototype as Record<string, unknown>).constructor = wrapped;
    G[name] = wrapped;
  };

  // Nothing useful is left of WebAssembly with wasm code generation off, and its Memory and
  // Atomics.waitAsync would allocate or schedule work outside the accounting.
  delete G.WebAssembly;
  delete (Atomics as unknown as Record<string, unknown>).waitAsync;
  wrapConstructor('ArrayBuffer', ArrayBuffer as unknown as AnyConstructor, bufferHandler);
  wrapConstructor('SharedArrayBuffer', SharedArrayBuffer as unknown as AnyConstructor, bufferHandler);
  const typedArrays: Array<[string, unknown]> = [
    ['Int8Array', Int8Array],
    ['Uint8Array', Uint8Array],
    ['Uint8ClampedArray', Uint8ClampedArray],
    ['Int16Array', Int16Array],
    ['Uint16Array', Uint16Array],
    ['Int32Array', Int32Array],
    ['Uint32Array', Uint32Array],
    ['Float16Array', G.Float16Array],
    ['Float32Array', Float32Array],
    ['Float64Array', Float64Array],
    ['BigInt64Array', BigInt64Array],
    ['BigUint64Array', BigUint64Array],
  ];
  for (let i = 0; i < typedArrays.length; i++) {
    const entry = typedArrays[i] as [string, unknown];
    const Target = entry[1];
    if (typeof Target !== 'function') continue;
    put(elementSizes, Target, (Target as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
    wrapConstructor(entry[0], Target as AnyConstructor, typedArrayHandler);
  }
  const part = Object.create(null) as MemoryPart;
  part.charge = charge;
  part.track = track;
  part.trackView = trackView;
  part.toIndex = toIndex;
  part.probe = probe;
  part.abByteLength = abByteLength;
  part.abMaxByteLength = abMaxByteLength;
  part.sabByteLength = sabByteLength;
  part.taByteLength = taByteLength;
  part.arrayBufferProto = ArrayBufferProto;
  part.sharedArrayBufferProto = SharedArrayBufferProto;
  part.typedArrayProto = TypedArrayProto;
  part.usedBytes = () => externalBytes;
  return part;
}
