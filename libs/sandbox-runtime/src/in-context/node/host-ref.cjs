'use strict';
// The host functions a built-in's bundle was given (`module.host` of the bundle's module
// function: `builtin`, `dns`, `fetch`, primitives only), set by the bundle's entry before the
// built-in's own file runs. One per bundle evaluation, so one per context.
module.exports = { host: null };
