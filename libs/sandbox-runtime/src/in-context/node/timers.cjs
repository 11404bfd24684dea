'use strict';
// Node's `timers` and `timers/promises` over the context's timer globals (the sandbox's host
// timers, capped and cancelled with the execution).

const abortError = (signal) => {
  const error = new Error('The operation was aborted', { cause: signal && signal.reason });
  error.name = 'AbortError';
  error.code = 'ABORT_ERR';
  return error;
};

function delay(schedule, cancel, ms, value, options) {
  const signal = options && options.signal;
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      cancel(handle);
      reject(abortError(signal));
    };
    const handle = schedule(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve(value);
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function* setIntervalIterator(ms, value, options) {
  const signal = options && options.signal;
  for (;;) {
    if (signal && signal.aborted) throw abortError(signal);
    await delay(globalThis.setTimeout, globalThis.clearTimeout, ms, undefined, options);
    yield value;
  }
}

const promises = {
  setTimeout: (ms, value, options) => delay(globalThis.setTimeout, globalThis.clearTimeout, ms, value, options),
  setImmediate: (value, options) => delay((fn) => globalThis.setImmediate(fn), globalThis.clearImmediate, 0, value, options),
  setInterval: setIntervalIterator,
  scheduler: {
    wait: (ms, options) => delay(globalThis.setTimeout, globalThis.clearTimeout, ms, undefined, options),
    yield: () => delay((fn) => globalThis.setImmediate(fn), globalThis.clearImmediate, 0, undefined),
  },
};

module.exports = {
  setTimeout: (...args) => globalThis.setTimeout(...args),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
  setInterval: (...args) => globalThis.setInterval(...args),
  clearInterval: (handle) => globalThis.clearInterval(handle),
  setImmediate: (...args) => globalThis.setImmediate(...args),
  clearImmediate: (handle) => globalThis.clearImmediate(handle),
  promises,
};
