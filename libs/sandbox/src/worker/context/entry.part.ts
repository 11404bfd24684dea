/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context, last: the calling conventions. It evaluates the compiled CommonJS wrapper
 * of the action (module scope, `require`, `process.env` = the secrets), then calls
 * - HubSpot: `exports.main(event, callback)`: async, callback (`callback(result)` or
 *   `callback(null, result)`), or synchronous; returning nothing settles `nothing`;
 * - JsWorkflows: `new Workflow().start(data, headers, api)` (`Workflow` or a default export).
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
  /** Runs the action (`configJson`: `{ runtime, env }`). */
  start: (configJson: string, inputJson: string, headersJson: string, factory: unknown) => void;
  /** Fails the execution with a thrown value (once). */
  fail: (thrown: unknown) => void;
}

type Exports = Record<string, unknown>;

/** Runs in the context (from its source text). */
export function entryPart(core: ContextCore, logging: ConsolePart, modules: RequirePart, proc: ProcessPart, bridge: BridgePart): EntryPart {
  'use strict';
  const { call, settle, reflectApply, reflectConstruct, jsonParse, jsonStringify, objectKeys, objectFreeze, ErrorCtor, isArray, StringCtor } = core;
  const { promiseResolve, then, readProperty, isObjectLike, platformError, describeThrown } = core;
  const { emit } = logging;
  const requireModule = modules.require;
  const env = proc.env;
  const getOAuthToken = bridge.getOAuthToken;
  let settled = false;
  let callbackCalled = false;
  let runtime = 'hubspot';
  const fail = (thrown: unknown): void => {
    if (settled) return;
    settled = true;
    const d = describeThrown(thrown);
    settle('fail', { name: d.name, message: d.message, stack: d.stack, code: d.code });
  };
  const serialise = (value: unknown): unknown => {
    if (runtime === 'jsworkflows') return value === undefined ? {} : { returnValue: value };
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
  const boundedStringify = (value: unknown): unknown => {
    let chars = 0;
    const count = function (this: unknown, key: string, item: unknown): unknown {
      chars += isArray(this) ? 1 : key.length + 4;
      const type = typeof item;
      if (type === 'string') chars += (item as string).length + 2;
      else if (type === 'number') chars += StringCtor(item).length;
      else if (type === 'boolean' || item === null) chars += 5;
      else if (type === 'object') chars += 2;
      if (maxChars > 0 && chars > maxChars) throw tooLarge;
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
  const runWorkflow = (exported: Exports, inputJson: string, headersJson: string): void => {
    const Workflow = readProperty(exported, 'Workflow') ?? readProperty(exported, 'default');
    if (typeof Workflow !== 'function') {
      fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', 'The workflow must export a class named Workflow (export class Workflow { async start(data, headers, api) {} })'));
      return;
    }
    let result: unknown;
    try {
      const instance = reflectConstruct(Workflow as new () => object, []) as Record<string, unknown>;
      const startMethod = instance.start;
      if (typeof startMethod !== 'function') {
        fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', 'The Workflow class must have a start(data, headers, api) method'));
        return;
      }
      const data = jsonParse(inputJson) as unknown;
      const headers = jsonParse(headersJson) as unknown;
      const api = objectFreeze({ getOAuthToken });
      result = reflectApply(startMethod, instance, [data, headers, api]);
    } catch (error) {
      fail(error);
      return;
    }
    then(
      promiseResolve(result),
      (value) => {
        if (settled) return;
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
    const config = jsonParse(configJson) as { runtime: string; runtimeVersion?: string; env: Record<string, string> };
    runtime = config.runtime;
    if (typeof config.runtimeVersion === 'string') modules.setRuntimeVersion(config.runtimeVersion);
    const secretNames = objectKeys(config.env);
    for (let i = 0; i < secretNames.length; i++) {
      const name = secretNames[i] as string;
      env[name] = config.env[name] as string;
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
