'use strict';
// Node's `stream` and `stream/promises`: the npm `readable-stream` v4, which is Node's own
// stream code published for other platforms. `require('stream')` is the legacy `Stream`
// constructor with `Readable`, `Writable`, `Duplex`, `Transform`, `PassThrough`, `pipeline`,
// `finished`, … on it, as in Node.

const Stream = require('readable-stream/lib/stream.js');
const promises = require('readable-stream/lib/stream/promises.js');

if (!Object.prototype.hasOwnProperty.call(Stream, 'promises')) Object.defineProperty(Stream, 'promises', { value: promises, enumerable: true, configurable: true });
module.exports = Stream;
