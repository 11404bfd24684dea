'use strict';
// `require('process')` inside the built-ins' bundles: the runtime's library process
// (`nextTick` = `queueMicrotask`), not the npm browser shim's timer-based one.
module.exports = globalThis[Symbol.for('codestep.runtime')].require('codestep:process');
