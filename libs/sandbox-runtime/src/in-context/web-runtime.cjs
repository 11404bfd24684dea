'use strict';
// The heavy half of the in-context runtime: the modules behind the prelude's lazy globals and
// built-in shims (whatwg-url, encoding, events, fetch, crypto, buffer, util, url, querystring,
// structured clone). It is bundled on its own (`SandboxRuntime.libraries['codestep:web-runtime']`)
// and evaluated in a context only when that context first needs one of them, through the
// prelude's `bridge.loadModule`; a context that touches none of them never pays for its top level.
//
// Each member is a getter: a module body runs on its first `require`, not when this bundle is
// evaluated, exactly as when these `require` calls sat in the prelude.

module.exports = {
  __proto__: null,
  whatwgUrl: () => require('whatwg-url'),
  encoding: () => require('./encoding.cjs'),
  events: () => require('./events.cjs'),
  fetch: () => require('./fetch.cjs'),
  crypto: () => require('./crypto.cjs'),
  buffer: () => require('buffer/'),
  eventEmitter: () => require('events'),
  util: () => require('./util.cjs'),
  url: () => require('./url.cjs'),
  querystring: () => require('querystring-es3'),
  structuredClone: () => require('./structured-clone.cjs'),
};
