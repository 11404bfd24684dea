'use strict';
// Node's `assert` (and `assert/strict`): the common checks, with `AssertionError`s carrying
// Node's `code`, `actual`, `expected`, `operator`. Messages are shorter than Node's (no diff).

const util = require('util');

class AssertionError extends Error {
  constructor(options) {
    super(options.message);
    this.name = 'AssertionError';
    this.code = 'ERR_ASSERTION';
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator;
    this.generatedMessage = !options.given;
  }
}

const show = (value) => util.inspect(value, { depth: 3, breakLength: Infinity });

function fail(actual, expected, message, operator, defaultMessage) {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message: message === undefined ? defaultMessage() : String(message), given: message !== undefined, actual, expected, operator });
}

function looseDeepEqual(a, b, seen = new Map()) {
  if (a == b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && looseDeepEqual(a[k], b[k], seen));
}

function matchesExpected(error, expected) {
  if (expected === undefined) return true;
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && error instanceof expected) return true;
    if (Error.isPrototypeOf(expected) || expected === Error) return false;
    return expected.call({}, error) === true;
  }
  if (expected instanceof RegExp) return expected.test(String(error));
  if (typeof expected === 'object' && expected !== null) {
    return Object.keys(expected).every((k) => (expected[k] instanceof RegExp && typeof error[k] === 'string' ? expected[k].test(error[k]) : util.isDeepStrictEqual(error[k], expected[k])));
  }
  return true;
}

function makeAssert(strict) {
  const ok = (value, message) => {
    if (!value) fail(value, true, message, '==', () => `The expression evaluated to a falsy value:\n\n  assert.ok(${show(value)})\n`);
  };
  const assert = (value, message) => ok(value, message);
  const strictEqual = (a, b, message) => {
    if (!Object.is(a, b)) fail(a, b, message, 'strictEqual', () => `Expected values to be strictly equal:\n\n${show(a)} !== ${show(b)}\n`);
  };
  const notStrictEqual = (a, b, message) => {
    if (Object.is(a, b)) fail(a, b, message, 'notStrictEqual', () => `Expected "actual" to be strictly unequal to: ${show(b)}`);
  };
  const deepStrictEqual = (a, b, message) => {
    if (!util.isDeepStrictEqual(a, b)) fail(a, b, message, 'deepStrictEqual', () => `Expected values to be strictly deep-equal:\n${show(a)}\n\nshould equal\n\n${show(b)}`);
  };
  const notDeepStrictEqual = (a, b, message) => {
    if (util.isDeepStrictEqual(a, b)) fail(a, b, message, 'notDeepStrictEqual', () => `Expected "actual" not to be strictly deep-equal to: ${show(b)}`);
  };
  const throwsCheck = (error, expected, message, operator) => {
    if (!matchesExpected(error, expected)) {
      if (typeof expected === 'function' && error instanceof Error === false && !(expected.prototype !== undefined && error instanceof expected)) throw error;
      fail(error, expected, message, operator, () => `The error is expected to match ${show(expected)}; got ${show(error)}`);
    }
  };
  Object.assign(assert, {
    AssertionError,
    ok,
    fail: (message = 'Failed') => fail(undefined, undefined, message, 'fail', () => 'Failed'),
    equal: strict
      ? strictEqual
      : (a, b, message) => {
          if (!(a == b || (a !== a && b !== b))) fail(a, b, message, '==', () => `${show(a)} == ${show(b)}`);
        },
    notEqual: strict
      ? notStrictEqual
      : (a, b, message) => {
          if (a == b || (a !== a && b !== b)) fail(a, b, message, '!=', () => `${show(a)} != ${show(b)}`);
        },
    deepEqual: strict ? deepStrictEqual : (a, b, message) => (looseDeepEqual(a, b) ? undefined : fail(a, b, message, 'deepEqual', () => `Expected values to be loosely deep-equal:\n${show(a)}\n\nshould loosely deep-equal\n\n${show(b)}`)),
    notDeepEqual: strict ? notDeepStrictEqual : (a, b, message) => (looseDeepEqual(a, b) ? fail(a, b, message, 'notDeepEqual', () => `"actual" deepEqual "expected"`) : undefined),
    strictEqual,
    notStrictEqual,
    deepStrictEqual,
    notDeepStrictEqual,
    match: (string, regexp, message) => {
      if (typeof string !== 'string' || !regexp.test(string)) fail(string, regexp, message, 'match', () => `The input did not match the regular expression ${regexp}. Input:\n\n${show(string)}\n`);
    },
    doesNotMatch: (string, regexp, message) => {
      if (typeof string === 'string' && regexp.test(string)) fail(string, regexp, message, 'doesNotMatch', () => `The input was expected to not match the regular expression ${regexp}. Input:\n\n${show(string)}\n`);
    },
    throws: (fn, expected, message) => {
      if (typeof expected === 'string') [message, expected] = [expected, undefined];
      try {
        fn();
      } catch (error) {
        throwsCheck(error, expected, message, 'throws');
        return;
      }
      fail(undefined, expected, message, 'throws', () => 'Missing expected exception.');
    },
    doesNotThrow: (fn, _expected, message) => {
      try {
        fn();
      } catch (error) {
        fail(error, undefined, typeof _expected === 'string' ? _expected : message, 'doesNotThrow', () => `Got unwanted exception.\nActual message: "${error && error.message}"`);
      }
    },
    rejects: async (promiseOrFn, expected, message) => {
      if (typeof expected === 'string') [message, expected] = [expected, undefined];
      try {
        await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
      } catch (error) {
        throwsCheck(error, expected, message, 'rejects');
        return;
      }
      fail(undefined, expected, message, 'rejects', () => 'Missing expected rejection.');
    },
    doesNotReject: async (promiseOrFn, _expected, message) => {
      try {
        await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
      } catch (error) {
        fail(error, undefined, message, 'doesNotReject', () => `Got unwanted rejection.\nActual message: "${error && error.message}"`);
      }
    },
    ifError: (value) => {
      if (value !== null && value !== undefined) throw value instanceof Error ? value : new AssertionError({ message: `ifError got unwanted exception: ${show(value)}`, actual: value, expected: null, operator: 'ifError' });
    },
  });
  return assert;
}

const assert = makeAssert(false);
assert.strict = makeAssert(true);
assert.strict.strict = assert.strict;
module.exports = assert;
