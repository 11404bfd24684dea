'use strict';
// Stands in for the `node-fetch` package inside library bundles: the sandbox's fetch, plus the
// node-fetch extras libraries use (timeout option, FetchError, response.buffer()).

const web = globalThis[Symbol.for('codestep.runtime')].require('codestep:web');

class FetchError extends Error {
  constructor(message, type, systemError) {
    super(message);
    this.name = 'FetchError';
    this.type = type;
    if (systemError) this.code = this.errno = systemError.code;
  }
}

function fetch(url, init = {}) {
  const options = { ...(init || {}) };
  delete options.agent;
  delete options.compress;
  delete options.size;
  delete options.follow;
  if (typeof options.timeout === 'number' && options.timeout > 0 && !options.signal) options.signal = web.AbortSignal.timeout(options.timeout);
  delete options.timeout;
  if (url && typeof url === 'object' && !(url instanceof web.Request) && typeof url.href === 'string') url = url.href;
  return web.fetch(url, options).catch((error) => {
    if (error && error.name === 'AbortError') throw error;
    throw new FetchError(`request to ${String(url)} failed, reason: ${error && error.message}`, 'system', error);
  });
}
fetch.isRedirect = (code) => [301, 302, 303, 307, 308].includes(code);

module.exports = fetch;
module.exports.default = fetch;
module.exports.Headers = web.Headers;
module.exports.Request = web.Request;
module.exports.Response = web.Response;
module.exports.FetchError = FetchError;
module.exports.AbortError = web.DOMException;
