/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context, last: the calling conventions. It evaluates the compiled CommonJS wrapper
 * of the action (module scope, `require`, `process.env` = the secrets), then calls
 * - HubSpot: `exports.main(event, callback)`: async, callback (`callback(result)` or
 *   `callback(null, result)`), or synchronous; returning nothing settles `nothing`;
 * - JsWorkflows: `new Workflow()[step](data, headers, api)` (`Workflow` or a default export;
 *   `step` is `start` unless the request names another method). `api.scheduleNextStep` checks
 *   each call against the bounds it is given and records it; the calls leave with the result
 *   (`nextSteps`), so a step that fails schedules nothing. `api.waitForEvent` likewise records
 *   its waits (`waits`), each with a resume token made here from the host's random bytes (the
 *   worker keeps only its hash). `env` is a global of the secrets.
 * The result leaves as one JSON string (`complete` or `callback`); a throw or rejection as a
 * description (`fail`). Values of user code are only read here, inside the context.
 * Serialisation counts the characters it has produced and stops as soon as they pass the
 * result cap: an object graph that shares one object many times (or a `toJSON` that returns
 * its argument's children again and again, a "billion laughs") would otherwise grow the worker
 * by its whole exponential size before any check on the finished string.
 */
import type { BridgePart } from './bridge.part.ts';
import type { ConsolePart } from './console.part.ts';
import type { ContextCore } from './core.part.ts';
import type { ProcessPart } from './process.part.ts';
import type { RequirePart } from './require.part.ts';

/** What the entry part gives the bootstrap (a context-realm object). */
export interface EntryPart {
  /** Runs the action (`configJson`: `{ runtime, env, step? }`). */
  start: (configJson: string, inputJson: string, headersJson: string, factory: unknown) => void;
  /** Fails the execution with a thrown value (once). */
  fail: (thrown: unknown) => void;
}

type Exports = Record<string, unknown>;

/** What the worker passes for a JsWorkflows step (see `WorkerExecution.step`). */
interface StepConfig {
  name: string;
  scheduling: { minDelayMs: number; maxDelayMs: number; maxPayloadChars: number; maxNextSteps: number; maxWaitTimeoutMs?: number; resumeBaseUrl?: string };
}

/** Runs in the context (from its source text). */
export function entryPart(core: ContextCore, logging: ConsolePart, modules: RequirePart, proc: ProcessPart, bridge: BridgePart): EntryPart {
  'use strict';
  const { call, settle, reflectApply, reflectConstruct, jsonParse, jsonStringify, objectKeys, objectFreeze, ErrorCtor, isArray, StringCtor } = core;
  const { promiseResolve, then, readProperty, isObjectLike, platformError, describeThrown } = core;
  const { emit } = logging;
  const requireModule = modules.require;
  const env = proc.env;
  const getOAuthToken = bridge.getOAuthToken;
  const runState = bridge.runState;
  const getPrototypeOf = Object.getPrototypeOf;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const objectPrototype = Object.prototype;
  const numberIsFinite = Number.isFinite;
  const mathRound = Math.round;
  const regexpExec = RegExp.prototype.exec;
  const toLowerCase = String.prototype.toLowerCase;
  const arrayPush = Array.prototype.push;
  /** Methods that are not steps: the entry (never scheduled again), the lifecycle hooks, the constructor. */
  const NOT_SCHEDULABLE = ['start', 'constructor', 'onWorkflowComplete', 'onWorkflowError'];
  const units = Object.create(null) as Record<string, number>;
  units.s = units.sec = units.secs = units.second = units.seconds = 1000;
  units.m = units.min = units.mins = units.minute = units.minutes = 60_000;
  units.h = units.hr = units.hrs = units.hour = units.hours = 3_600_000;
  units.d = units.day = units.days = 86_400_000;
  units.w = units.week = units.weeks = 604_800_000;
  /** A `Response` the step returned, once read (`{ status, headers, body }`): what `serialise` sends instead of a return value. */
  let httpResponse: unknown;
  let settled = false;
  let callbackCalled = false;
  let runtime = 'hubspot';
  let step: StepConfig = { name: 'start', scheduling: { minDelayMs: 10_000, maxDelayMs: 400 * 86_400_000, maxPayloadChars: 262_144, maxNextSteps: 1000 } };
  /** The next steps scheduled so far (JSON-ready: payloads already serialised). */
  const nextSteps: Array<{ action: string; delayMs: number; payloadJson: string }> = [];
  /** The waits asked for so far (`api.waitForEvent`), with their tokens (hashed by the worker). */
  const waits: Array<{ action: string; payloadJson: string; timeoutMs: number; redirectUrl: string; token: string }> = [];
  const fail = (thrown: unknown): void => {
    if (settled) return;
    settled = true;
    const d = describeThrown(thrown);
    settle('fail', { name: d.name, message: d.message, stack: d.stack, code: d.code });
  };
  const serialise = (value: unknown): unknown => {
    if (runtime === 'jsworkflows') {
      const out = httpResponse !== undefined ? { httpResponse } : value === undefined ? {} : { returnValue: value };
      const withSteps = nextSteps.length ? { ...out, nextSteps } : out;
      return waits.length ? { ...withSteps, waits } : withSteps;
    }
    if (!isObjectLike(value)) return { notAnObject: value === null ? 'null' : typeof value };
    return { outputFields: readProperty(value, 'outputFields') };
  };
  const maxChars = core.maxResultChars;
  /** Thrown by the replacer past the cap; recognised by identity, so no user value can pass for it. */
  const tooLarge = Object.create(null) as object;
  /**
   * `JSON.stringify` with a replacer that returns every value unchanged (so the output is the
   * same) and counts what it will write: keys with their quotes, colon and comma, primitives
   * as written (strings before escaping), braces. It runs after `toJSON`, on what is written.
   */
  const boundedStringify = (value: unknown, cap = maxChars): unknown => {
    let chars = 0;
    const count = function (this: unknown, key: string, item: unknown): unknown {
      chars += isArray(this) ? 1 : key.length + 4;
      const type = typeof item;
      if (type === 'string') chars += (item as string).length + 2;
      else if (type === 'number') chars += StringCtor(item).length;
      else if (type === 'boolean' || item === null) chars += 5;
      else if (type === 'object') chars += 2;
      if (cap > 0 && chars > cap) throw tooLarge;
      return item;
    };
    return jsonStringify(value, count);
  };
  const deliver = (kind: 'complete' | 'callback', value: unknown): void => {
    let json: unknown;
    try {
      json = boundedStringify(serialise(value));
    } catch (error) {
      settled = true;
      if (error === tooLarge) {
        settle('unserialisable', { message: `more than ${maxChars} characters of JSON`, tooLarge: true });
        return;
      }
      const d = describeThrown(error);
      settle('unserialisable', { message: `${d.name}: ${d.message}` });
      return;
    }
    call('settle', kind, typeof json === 'string' ? json : '{}');
  };
  const isThenable = (value: unknown): boolean => isObjectLike(value) && typeof readProperty(value, 'then') === 'function';
  /** Evaluates the action's module; its exports, or null when it failed (already reported). */
  const evaluate = (factory: unknown): Exports | null => {
    const module = { exports: {} as Exports, id: '.', filename: '/action/index.js', loaded: false, children: [], paths: [] };
    (module as Record<string, unknown>).require = requireModule;
    if (typeof factory !== 'function') {
      fail(platformError(ErrorCtor, 'USER_CODE_ERROR', 'The action code did not compile to a module'));
      return null;
    }
    try {
      reflectApply(factory, module.exports, [module.exports, requireModule, module, '/action/index.js', '/action']);
      module.loaded = true;
    } catch (error) {
      fail(error);
      return null;
    }
    return module.exports;
  };
  /** A method of the Workflow class (own, or on its prototype chain below `Object.prototype`). */
  const methodOf = (instance: object, name: string): unknown => {
    const own = getOwnPropertyDescriptor(instance, name);
    if (own) return own.value;
    for (let proto = getPrototypeOf(instance) as object | null; proto !== null && proto !== objectPrototype; proto = getPrototypeOf(proto) as object | null) {
      const d = getOwnPropertyDescriptor(proto, name);
      if (d) return d.value;
    }
    return undefined;
  };
  /** A delay as JsWorkflows takes it (seconds, or "5 min"), ms; a message when it is not one (same rule as `parseStepDelay` of `@codestep/core`). */
  const delayOf = (delay: unknown): number | string => {
    if (typeof delay === 'number') {
      if (!numberIsFinite(delay) || delay < 0) return `delay must be a number of seconds (0 or more) or a duration like "5 min", got ${StringCtor(delay)}`;
      return mathRound(delay * 1000);
    }
    if (typeof delay !== 'string') return `delay must be a number of seconds or a duration like "5 min", got ${delay === null ? 'null' : typeof delay}`;
    const match = reflectApply(regexpExec, /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/, [delay]) as string[] | null;
    const unitName = match ? (reflectApply(toLowerCase, match[2] ?? '', []) as string) || 's' : '';
    const unit = units[unitName];
    if (!match || unit === undefined) return `delay ${jsonStringify(core.slice(delay, 0, 40))} is not a duration: use seconds or "<n> sec|min|hr|days|weeks"`;
    return mathRound(core.NumberCtor(match[1]) * unit);
  };
  const seconds = (ms: number): string => `${ms / 1000} s`;
  /** The step a call names: a method of the class other than start and the hooks. */
  const stepActionOf = (instance: object, options: object, invalid: (message: string) => Error): string => {
    const action = readProperty(options, 'action');
    if (typeof action !== 'string' || action === '') throw invalid('action must be the name of a method of your Workflow class');
    for (let i = 0; i < NOT_SCHEDULABLE.length; i++) {
      if (action === NOT_SCHEDULABLE[i]) throw invalid(`"${action}" cannot be scheduled: ${action === 'start' ? 'start is the entry point of a run' : 'it is not a step'}; schedule another method`);
    }
    if (typeof methodOf(instance, action) !== 'function') throw invalid(`the Workflow class has no method ${jsonStringify(core.slice(action, 0, 80))}`);
    return action;
  };
  /** A resume token: 24 random bytes of the host (192 bits), base64url. */
  const resumeToken = (): string => {
    const b64 = core.call('randomBytes', 24);
    if (typeof b64 !== 'string' || b64.length !== 32) throw platformError(ErrorCtor, 'INVALID_STEP', 'api.waitForEvent: no random bytes for the resume token');
    let out = 'rt_';
    for (let i = 0; i < b64.length; i++) {
      const c = core.slice(b64, i, i + 1);
      out += c === '+' ? '-' : c === '/' ? '_' : c;
    }
    return out;
  };
  /**
   * `api.waitForEvent({ action, payload, timeout, redirect_url })`: checked here (a bad call fails
   * the step where it is); resolves with `{ token, resumeUrl }` at once, the wait itself starting
   * when the step's result is recorded.
   */
  const waitForEventOf = (instance: object) =>
    function waitForEvent(options: unknown): Promise<unknown> {
      const invalid = (message: string): Error => platformError(ErrorCtor, 'INVALID_STEP', `api.waitForEvent: ${message}`);
      if (!isObjectLike(options)) throw invalid('pass an object like { action: "onApproved", payload: {...}, timeout: "2 days" }');
      const action = stepActionOf(instance, options as object, invalid);
      const timeout = readProperty(options, 'timeout');
      const timeoutMs = delayOf(timeout === undefined || timeout === null ? 86_400 : timeout);
      if (typeof timeoutMs === 'string') throw invalid(core.slice(timeoutMs, 0, 5) === 'delay' ? `timeout${core.slice(timeoutMs, 5)}` : timeoutMs);
      const { minDelayMs, maxPayloadChars, maxNextSteps } = step.scheduling;
      const maxTimeoutMs = step.scheduling.maxWaitTimeoutMs ?? 30 * 86_400_000;
      if (timeoutMs < minDelayMs || timeoutMs > maxTimeoutMs) throw invalid(`timeout of ${seconds(timeoutMs)} is outside the allowed ${seconds(minDelayMs)} to ${seconds(maxTimeoutMs)}`);
      if (nextSteps.length + waits.length >= maxNextSteps) throw invalid(`a step may schedule and wait for at most ${maxNextSteps} next steps`);
      const payload = readProperty(options, 'payload');
      if (payload !== undefined && payload !== null && (!isObjectLike(payload) || typeof payload === 'function' || isArray(payload)))
        throw invalid('payload must be an object: its fields are merged with what the resume URL receives (pass {} for none)');
      let payloadJson: unknown;
      try {
        payloadJson = payload === undefined || payload === null ? '{}' : boundedStringify(payload, maxPayloadChars);
      } catch (error) {
        if (error === tooLarge) throw invalid(`payload is over ${maxPayloadChars} characters of JSON; keep large data elsewhere (api.runStore, your own storage)`);
        throw invalid(`payload is not JSON: ${describeThrown(error).message}`);
      }
      if (typeof payloadJson !== 'string') payloadJson = '{}';
      const redirect = readProperty(options, 'redirect_url');
      let redirectUrl = '';
      if (redirect !== undefined && redirect !== null && redirect !== '') {
        if (typeof redirect !== 'string' || redirect.length > 2048 || reflectApply(regexpExec, /^https?:\/\/[^\s/]+/i, [redirect]) === null)
          throw invalid('redirect_url must be an absolute http(s) URL (at most 2048 characters), or null for the confirmation page');
        redirectUrl = redirect;
      }
      const token = resumeToken();
      const base = typeof step.scheduling.resumeBaseUrl === 'string' ? step.scheduling.resumeBaseUrl : 'http://127.0.0.1:8080';
      reflectApply(arrayPush, waits, [{ action, payloadJson: payloadJson as string, timeoutMs, redirectUrl, token }]);
      return promiseResolve(objectFreeze({ token, resumeUrl: `${base}/resume/${token}` }));
    };
  /** `api.scheduleNextStep({ delay, action, payload })`: checked here, so a bad call fails the step where it is. */
  const scheduleNextStepOf = (instance: object) =>
    function scheduleNextStep(options: unknown): Promise<unknown> {
      const invalid = (message: string): Error => platformError(ErrorCtor, 'INVALID_STEP', `api.scheduleNextStep: ${message}`);
      if (!isObjectLike(options)) throw invalid('pass an object like { delay: "5 min", action: "nextStep", payload: {...} }');
      const action = stepActionOf(instance, options as object, invalid);
      const delayMs = delayOf(readProperty(options, 'delay') ?? 0);
      if (typeof delayMs === 'string') throw invalid(delayMs);
      const { minDelayMs, maxDelayMs, maxPayloadChars, maxNextSteps } = step.scheduling;
      if (delayMs < minDelayMs || delayMs > maxDelayMs) throw invalid(`delay of ${seconds(delayMs)} is outside the allowed ${seconds(minDelayMs)} to ${seconds(maxDelayMs)}`);
      if (nextSteps.length + waits.length >= maxNextSteps) throw invalid(`a step may schedule at most ${maxNextSteps} next steps`);
      const payload = readProperty(options, 'payload');
      let payloadJson: unknown;
      try {
        payloadJson = payload === undefined ? 'null' : boundedStringify(payload, maxPayloadChars);
      } catch (error) {
        if (error === tooLarge) throw invalid(`payload is over ${maxPayloadChars} characters of JSON; keep large data elsewhere (api.runStore, your own storage)`);
        throw invalid(`payload is not JSON: ${describeThrown(error).message}`);
      }
      if (typeof payloadJson !== 'string') payloadJson = 'null';
      if ((payloadJson as string).length > maxPayloadChars)
        throw invalid(`payload is ${(payloadJson as string).length} characters of JSON, over the limit of ${maxPayloadChars}; keep large data elsewhere`);
      reflectApply(arrayPush, nextSteps, [{ action, delayMs, payloadJson }]);
      return promiseResolve(undefined);
    };
  const rejected = (message: string): Promise<unknown> => new core.PromiseCtor((_resolve, reject) => reject(new core.TypeErrorCtor(message)));
  /** One run-state operation, checked here (key, JSON value) and done by the host. */
  const runStateCall = (what: string, op: string, key: unknown, value?: unknown): Promise<unknown> => {
    if (typeof key !== 'string' || key === '' || key.length > 200) return rejected(`${what}: key must be a non-empty string of at most 200 characters`);
    let requestJson: unknown;
    try {
      requestJson = boundedStringify(value === undefined ? { op, key } : { op, key, value });
    } catch (error) {
      return rejected(`${what}: the value is not JSON${error === tooLarge ? ` (more than ${maxChars} characters)` : `: ${describeThrown(error).message}`}`);
    }
    return runState(typeof requestJson === 'string' ? requestJson : '{}');
  };
  /** JsWorkflows' `api.runStore`: run-scoped JSON values, shared by every step and branch of the run. */
  const runStore = objectFreeze({
    get: (key: unknown) => runStateCall('api.runStore.get', 'get', key),
    set: (key: unknown, value: unknown) => runStateCall('api.runStore.set', 'set', key, value === undefined ? null : value),
    push: (key: unknown, item: unknown) => runStateCall('api.runStore.push', 'push', key, item === undefined ? null : item),
    increment: (key: unknown, delta: unknown = 1) =>
      typeof delta === 'number' && numberIsFinite(delta) ? runStateCall('api.runStore.increment', 'increment', key, delta) : rejected('api.runStore.increment: delta must be a finite number'),
    delete: (key: unknown) => runStateCall('api.runStore.delete', 'delete', key),
  });
  /** JsWorkflows' `api.dedupe(key)`: `{ locked: false }` the first time within the window, `{ locked: true }` after. */
  const dedupe = (key: unknown): Promise<unknown> => runStateCall('api.dedupe', 'dedupe', key);
  /** The error an `onWorkflowError` hook receives: an Error with the failure's message and `code`. */
  const errorOf = (data: unknown): Error => {
    const failure = isObjectLike(data) ? readProperty(data, 'error') : undefined;
    const message = isObjectLike(failure) ? readProperty(failure, 'message') : undefined;
    const error = new ErrorCtor(typeof message === 'string' ? message : 'the workflow failed');
    const code = isObjectLike(failure) ? readProperty(failure, 'code') : undefined;
    core.defineProperty(error, 'code', { value: typeof code === 'string' ? code : 'UNKNOWN', writable: true, configurable: true, enumerable: true });
    const actionId = isObjectLike(data) ? readProperty(data, 'failedActionId') : undefined;
    if (typeof actionId === 'string') core.defineProperty(error, 'actionId', { value: actionId, writable: true, configurable: true, enumerable: true });
    return error;
  };
  /** A `Response` (the runtime's, or one shaped like it): a numeric status, headers with forEach, text(). */
  const isResponse = (value: unknown): boolean => {
    if (!isObjectLike(value) || typeof readProperty(value, 'status') !== 'number' || typeof readProperty(value, 'text') !== 'function') return false;
    const headers = readProperty(value, 'headers');
    return isObjectLike(headers) && typeof readProperty(headers, 'forEach') === 'function';
  };
  /** Reads the Response's body as text, then settles with `{ httpResponse: { status, headers, body } }`. */
  const deliverResponse = (response: object): void => {
    const status = readProperty(response, 'status') as number;
    const headers = Object.create(null) as Record<string, string>;
    let body: unknown;
    try {
      reflectApply(readProperty(readProperty(response, 'headers'), 'forEach') as (cb: (value: unknown, name: unknown) => void) => void, readProperty(response, 'headers'), [
        (value: unknown, name: unknown) => {
          if (typeof name === 'string' && typeof value === 'string') headers[name] = value;
        },
      ]);
      body = reflectApply(readProperty(response, 'text') as () => unknown, response, []);
    } catch (error) {
      fail(error);
      return;
    }
    then(
      promiseResolve(body),
      (text) => {
        if (settled) return;
        settled = true;
        httpResponse = { status, headers, body: typeof text === 'string' ? text : StringCtor(text) };
        deliver('complete', undefined);
      },
      fail,
    );
  };
  const runWorkflow = (exported: Exports, inputJson: string, headersJson: string): void => {
    const Workflow = readProperty(exported, 'Workflow') ?? readProperty(exported, 'default');
    if (typeof Workflow !== 'function') {
      fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', 'The workflow must define a class named Workflow (class Workflow { async start(data, headers, api) {} }, exported or not)'));
      return;
    }
    let result: unknown;
    try {
      const instance = reflectConstruct(Workflow as new () => object, []) as Record<string, unknown>;
      const method = methodOf(instance, step.name);
      const isHook = step.name === 'onWorkflowComplete' || step.name === 'onWorkflowError';
      if (typeof method !== 'function' && isHook) {
        // The platform guessed the hook from the source; a class without it has nothing to run.
        settled = true;
        deliver('complete', undefined);
        return;
      }
      if (typeof method !== 'function') {
        const message =
          step.name === 'start'
            ? 'The Workflow class must have a start(data, headers, api) method'
            : `The Workflow class has no method ${step.name}(data, headers, api) (was it renamed in a later version?)`;
        fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', message));
        return;
      }
      const data = jsonParse(inputJson) as unknown;
      const headers = jsonParse(headersJson) as unknown;
      const log = (...args: unknown[]): void => emit('log', args);
      // Hooks get a restricted api: no scheduling, no waits (the run is ending).
      const api = isHook
        ? objectFreeze({ getOAuthToken, log, runStore, dedupe })
        : objectFreeze({ getOAuthToken, scheduleNextStep: scheduleNextStepOf(instance), waitForEvent: waitForEventOf(instance), log, runStore, dedupe });
      const args = step.name === 'onWorkflowComplete' ? [api] : step.name === 'onWorkflowError' ? [errorOf(data), api] : [data, headers, api];
      result = reflectApply(method as (...a: unknown[]) => unknown, instance, args);
    } catch (error) {
      fail(error);
      return;
    }
    then(
      promiseResolve(result),
      (value) => {
        if (settled) return;
        if (isResponse(value)) {
          deliverResponse(value as object);
          return;
        }
        settled = true;
        deliver('complete', value);
      },
      fail,
    );
  };
  const callback = function callback(this: unknown, first: unknown, second?: unknown): void {
    if (callbackCalled || settled) {
      emit('warn', ['callback() was called more than once; only the first call counts']);
      return;
    }
    callbackCalled = true;
    // HubSpot's form is callback(result); code written for Lambda calls callback(null, result).
    const result = (first === null || first === undefined) && arguments.length > 1 ? second : first;
    if (result instanceof ErrorCtor) {
      fail(result);
      return;
    }
    deliver('callback', result);
  };
  /** What `main` returned (or resolved to), unless `callback` or a failure settled first. */
  const returned = (value: unknown): void => {
    if (value === undefined) {
      call('settle', 'nothing', '{}');
      return;
    }
    settled = true;
    deliver('complete', value);
  };
  const runMain = (exported: Exports, inputJson: string): void => {
    const main = readProperty(exported, 'main');
    if (typeof main !== 'function') {
      fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', 'The action must export a function named main (exports.main = async (event) => { ... })'));
      return;
    }
    let result: unknown;
    try {
      const event = jsonParse(inputJson) as Record<string, unknown>;
      // `event.fields`: the same values as `event.inputFields`, as practitioners' actions read them.
      const inputFields = event !== null && typeof event === 'object' ? event.inputFields : undefined;
      if (inputFields !== null && typeof inputFields === 'object' && !('fields' in event)) event.fields = { ...(inputFields as Record<string, unknown>) };
      result = reflectApply(main, exported, [event, callback]);
    } catch (error) {
      fail(error);
      return;
    }
    if (isThenable(result)) {
      then(
        promiseResolve(result),
        (value) => {
          if (!settled && !callbackCalled) returned(value);
        },
        (error) => {
          if (!callbackCalled) fail(error);
        },
      );
    } else if (!callbackCalled && !settled) returned(result);
  };
  const start = (configJson: string, inputJson: string, headersJson: string, factory: unknown): void => {
    const config = jsonParse(configJson) as { runtime: string; runtimeVersion?: string; env: Record<string, string>; step?: StepConfig };
    runtime = config.runtime;
    if (typeof config.runtimeVersion === 'string') modules.setRuntimeVersion(config.runtimeVersion);
    if (config.step) step = config.step;
    const secretNames = objectKeys(config.env);
    for (let i = 0; i < secretNames.length; i++) {
      const name = secretNames[i] as string;
      env[name] = config.env[name] as string;
    }
    if (runtime === 'jsworkflows') {
      // JsWorkflows' global `env`: the selected secrets (process.env has them too).
      const globalEnv = Object.create(null) as Record<string, string>;
      for (let i = 0; i < secretNames.length; i++) globalEnv[secretNames[i] as string] = config.env[secretNames[i] as string] as string;
      core.defineProperty(core.G, 'env', { value: objectFreeze(globalEnv), writable: true, configurable: true, enumerable: false });
    }
    const exported = evaluate(factory);
    if (exported === null) return;
    if (runtime === 'jsworkflows') runWorkflow(exported, inputJson, headersJson);
    else runMain(exported, inputJson);
  };
  const part = Object.create(null) as EntryPart;
  part.start = start;
  part.fail = fail;
  return part;
}
