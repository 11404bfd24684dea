// Injected into the Node-built library bundles: free references to these names resolve here.
// The sandbox has no web streams (no `ReadableStream` global), but Node 24 has one, and
// libraries test values against it (gaxios 7: `data instanceof ReadableStream`), which would
// throw a ReferenceError. Nothing is an instance of this class, and making one says why not.
class ReadableStreamUnavailable {
  constructor() {
    throw new TypeError('ReadableStream is not available in actions (the sandbox has no web streams): use Node streams, require("stream")');
  }
  static [Symbol.hasInstance]() {
    return false;
  }
}
export const ReadableStream = typeof globalThis.ReadableStream === 'function' ? globalThis.ReadableStream : ReadableStreamUnavailable;
