/**
 * The first code that runs in every fresh context, made of parts (`context/*.part.ts`). None of
 * it is ever called in the worker's own realm: {@link BOOTSTRAP_SOURCE} is the parts' source
 * text (`Function.prototype.toString`), which the worker compiles once and runs in each new
 * context. So each part may reference nothing but the context's own ECMAScript globals, its
 * parameters and types; anything it needed from outside would drag a host-realm object in.
 *
 * {@link contextBootstrap} runs the parts in order, each given what the earlier ones made
 * (context-realm objects, never a host object):
 * 1. `intrinsics`, `core`: the intrinsics captured before user code can replace them; the host
 *    functions taken out of the bridge object (which is dropped) and only ever called through
 *    `core.call`, which returns primitives and swallows whatever is thrown (a host function
 *    handed to the context would expose the host realm: `fn.constructor` is the host's
 *    `Function`; so would a host error thrown through it);
 * 2. `inspect`, `console`: `console` and its Node-like formatting;
 * 3. `timers`: timers and `queueMicrotask`;
 * 4. `memory`, `memoryMethods`: accounting of memory allocated outside the V8 heap (array
 *    buffers), which the worker's heap limit does not see;
 * 5. `require` (allow-list), `process` (with `process.env` = the secrets);
 * 6. `bridge`: requests and OAuth calls through the host, the runtime prelude's `bridge`;
 * 7. `entry`: the HubSpot (`exports.main`, async or callback) and JsWorkflows
 *    (`class Workflow`) calling conventions, whose results leave as one JSON string;
 * then defines the globals and returns the {@link ContextApi} the worker calls.
 */
import type { ContextApi, DispatchKind, HostBridge } from '../bridge.protocol.ts';
import { bridgePart } from './context/bridge.part.ts';
import { consolePart } from './context/console.part.ts';
import { corePart } from './context/core.part.ts';
import { entryPart } from './context/entry.part.ts';
import { inspectPart } from './context/inspect.part.ts';
import { intrinsicsPart } from './context/intrinsics.part.ts';
import { memoryMethodsPart } from './context/memory-methods.part.ts';
import { memoryPart } from './context/memory.part.ts';
import { processPart } from './context/process.part.ts';
import { requirePart } from './context/require.part.ts';
import { timersPart } from './context/timers.part.ts';

/** Runs in the context (from its source text): the parts in order, then the globals and the API. */
export function contextBootstrap(hostBridge: HostBridge): ContextApi {
  'use strict';
  const core = corePart(hostBridge, intrinsicsPart());
  hostBridge = undefined as unknown as HostBridge;
  const logging = consolePart(core, inspectPart(core));
  const timers = timersPart(core);
  const memory = memoryPart(core);
  memoryMethodsPart(core, memory);
  const modules = requirePart(core);
  const proc = processPart(core, logging, memory);
  const bridge = bridgePart(core, modules, memory);
  const entry = entryPart(core, logging, modules, proc, bridge);
  const { G, defineProperty, objectKeys, objectFreeze, describeThrown, jsonStringify, isEnded } = core;
  const defineGlobal = (name: string, value: unknown): void => {
    defineProperty(G, name, { value, writable: true, configurable: true, enumerable: false });
  };
  defineGlobal('global', G);
  defineGlobal('console', logging.console);
  defineGlobal('process', proc.process);
  const timerGlobals = objectKeys(timers.globals);
  for (let i = 0; i < timerGlobals.length; i++) defineGlobal(timerGlobals[i] as string, timers.globals[timerGlobals[i] as string]);
  // Exhaustive by type: a new dispatch kind does not compile until it is handled here.
  const dispatchers = Object.create(null) as Record<DispatchKind, (id: number, payload: string) => void>;
  dispatchers.timer = timers.fire;
  dispatchers.fetch = bridge.fetchDone;
  dispatchers.oauth = bridge.oauthDone;
  dispatchers.runState = bridge.runStateDone;
  dispatchers.socket = bridge.socketEvent;
  dispatchers.dns = bridge.dnsDone;
  // Frozen, null prototype: the worker reads nothing through it but these functions.
  return objectFreeze({
    __proto__: null,
    installPrelude: (install: unknown): string => {
      if (typeof install !== 'function') return 'the runtime prelude did not evaluate to a function';
      try {
        (install as (g: unknown, b: unknown) => void)(G, bridge.prelude);
        return '';
      } catch (error) {
        const d = describeThrown(error);
        return `${d.name}: ${d.message}`;
      }
    },
    provideModule: modules.provide,
    start: (configJson: string, inputJson: string, headersJson: string, factory: unknown): void => {
      try {
        entry.start(configJson, inputJson, headersJson, factory);
      } catch (error) {
        entry.fail(error);
      }
    },
    dispatch: (kind: DispatchKind, id: number, payload: string): void => {
      if (isEnded()) return;
      try {
        const handler = dispatchers[kind];
        if (typeof handler === 'function') handler(id, payload);
      } catch {
        // the handlers catch user errors themselves; nothing may cross back into the host
      }
    },
    describeError: (reason: unknown): string => {
      try {
        return jsonStringify(describeThrown(reason));
      } catch {
        return '{"name":"Error","message":"[unprintable]","stack":"","code":""}';
      }
    },
    makeError: (message: string): unknown => core.platformError(core.ErrorCtor, 'MODULE_NOT_ALLOWED', core.safeString(message)),
    end: core.end,
  }) as ContextApi;
}

const PARTS = [intrinsicsPart, corePart, inspectPart, consolePart, timersPart, memoryPart, memoryMethodsPart, requirePart, processPart, bridgePart, entryPart];

/**
 * The bootstrap's source: one script (compiled once per worker) evaluating to a function of the
 * host bridge. In it the parts and {@link contextBootstrap} are function declarations made from
 * their own source text, so that the names `contextBootstrap` calls (whatever a bundler renamed
 * them to, consistently) are the parts of the same context. The wrapper keeps no reference to
 * the bridge.
 */
export const BOOTSTRAP_SOURCE = `(function codestepBootstrap(hostBridge) {
'use strict';
${PARTS.map((part) => part.toString()).join('\n')}
${contextBootstrap.toString()}
return ${contextBootstrap.name}(hostBridge);
})`;
