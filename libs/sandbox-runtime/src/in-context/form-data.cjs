'use strict';
// Stands in for the `form-data` package inside library bundles: the sandbox's FormData with the
// form-data API (append with a filename or options, getHeaders, getBoundary) over Buffers.

const web = globalThis[Symbol.for('codestep.runtime')].require('codestep:web');

class FormData extends web.FormData {
  #boundary = '--------------------------' + Array.from(web.crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
  append(name, value, options) {
    const filename = typeof options === 'string' ? options : options && options.filename;
    const contentType = options && typeof options === 'object' ? options.contentType : undefined;
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      super.append(name, new web.Blob([value], { type: contentType || 'application/octet-stream' }), filename ?? 'blob');
    } else if (value instanceof web.Blob) {
      super.append(name, filename !== undefined || contentType ? new web.Blob([value], { type: contentType || value.type }) : value, filename);
    } else {
      super.append(name, String(value));
    }
  }
  getBoundary() {
    return this.#boundary;
  }
  setBoundary(boundary) {
    this.#boundary = String(boundary);
  }
  getHeaders(extra = {}) {
    return { ...extra, 'content-type': `multipart/form-data; boundary=${this.#boundary}` };
  }
}

module.exports = FormData;
module.exports.default = FormData;
